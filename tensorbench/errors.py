"""The command line's error policy, as exception types.

- :class:`InputError`: bad input from the user or a file. The CLI prints one line naming the
  file, line, key or value and what would be valid, and exits 2.
- :class:`ExternalError`: a fault outside our control (a tool missing or failing, the machine
  out of memory). The CLI prints one line and exits 3.

Anything else reaching the CLI is a bug: one line saying so, exit 3, and the traceback only
with ``tensorbench --debug``. Ctrl-C exits 130 with one line.
"""


class InputError(Exception):
    """Bad input from the user or from a file; the message names what and where."""


class ExternalError(RuntimeError):
    """A fault outside our control (asv or git missing or failing, out of memory)."""


class TensorbenchWarning(UserWarning):
    """Input that works but looks wrong; the CLI prints it as one ``warning:`` line."""
