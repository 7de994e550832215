"""Errors of the local stack."""


class StackError(RuntimeError):
    """A stack operation failed; the message names the service and where to look."""
