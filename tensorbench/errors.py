"""Errors that mean bad input (a name, a file, a line): the CLI prints one line and exits 2."""


class InputError(Exception):
    """Bad input from the user or from a file; the message names what and where."""
