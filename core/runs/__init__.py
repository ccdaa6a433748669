"""The runner, which runs any long task and knows none: the job, the line, the child process, the host's limits."""
