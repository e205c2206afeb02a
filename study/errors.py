"""Errors that the CLI turns into one line and exit code 2."""


class UsageError(ValueError):
    """Bad input from the user: a flag, a preset, a config file or a tracking URI."""
