"""Each idea's run through the runner (core.runs), kept apart from its algorithm: a Job per idea."""
