"""Errors that are the user's to fix: the CLI prints them on one line and exits 2."""


class UserError(Exception):
    """A problem with the user's input or environment (missing root, corrupt file, ...).

    The command-line front end reports ``str(error)`` without a traceback and exits
    with status 2.
    """
