"""The one exception type for a user's mistake (bad model name, bad number, bad config).

The CLI turns it into a single line on stderr and exit code 2; anything else is a bug and keeps
its traceback. Every package may raise it: `workloads` is the root of the import chain.
"""


class SpecError(ValueError):
    """Bad user input. The message names the offending thing and what is allowed."""
