"""Training a network: its configuration, the loop, its cost before it starts, a run through the job runner, a
configuration in a link."""
