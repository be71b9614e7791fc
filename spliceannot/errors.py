"""Exceptions that carry a one-line, user-facing message."""


class InputError(Exception):
    """Bad or unreadable input.  The message names the file (and line)."""


class ModelError(Exception):
    """A model or checkpoint that cannot be loaded."""
