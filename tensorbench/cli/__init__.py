"""The `tensorbench` command. Each area registers its subcommands from its own module.

Machine-readable output (``--json``) is part of the contract. Exit codes: 0 ok, 1 a check or
gate failed (or a case was skipped, with its reason), 2 bad input (unknown names, bad files,
values out of range), 3 a fault outside our control (asv or git missing or failing, out of
memory, an unexpected error), 130 interrupted (Ctrl-C). Every error is one line on stderr;
the traceback only with ``tensorbench --debug``.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..errors import ExternalError, InputError, TensorbenchWarning
from . import chart, core, dashboard, graph, paired, regressions, report, runs, scale

AREAS = (core, graph, runs, dashboard, chart, regressions, report, paired, scale)
PROG = "tensorbench"


class _Parser(argparse.ArgumentParser):
    """argparse, with a bad option reported as one line like every other input error."""

    def error(self, message: str) -> Any:  # argparse's own: usage, message, exit 2
        raise InputError(f"{message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Honest benchmarks across array frameworks.")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads for every framework, 1 to this machine's cores (default: all cores)",
    )
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an error (for bug reports)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for area in AREAS:
        area.register(sub)
    return parser


def _one_line(message: Any) -> str:
    """The first line of an error message (a tool's long output stays out of the way)."""
    lines = str(message).strip().splitlines()
    return lines[0] if lines else message.__class__.__name__


@contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Our warnings (a rare graph label, say) as one ``tensorbench: warning:`` line each;
    other libraries' warnings as they were."""
    with warnings.catch_warnings():
        original = warnings.showwarning

        def show(message: Any, category: Any, *args: Any, **kwargs: Any) -> None:
            if isinstance(category, type) and issubclass(category, TensorbenchWarning):
                print(f"{PROG}: warning: {message}", file=sys.stderr)
            else:
                original(message, category, *args, **kwargs)

        warnings.showwarning = show
        yield


def _check_threads(n: int | None) -> None:
    from .. import threads

    cores = threads.available_cores()
    if n is not None and not 1 <= n <= cores:
        raise InputError(f"--threads {n}: must be 1..{cores} (the cores this process may use)")


def _fail(code: int, message: str, debug: bool) -> int:
    if debug:
        traceback.print_exc()
    print(f"{PROG}: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (see the module docstring)."""
    debug = "--debug" in (sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)  # a bad option: InputError, exit 2
        debug = args.debug
        from .. import threads

        _check_threads(args.threads)
        threads.set_threads(args.threads)  # before any framework is imported
        with _warnings_as_lines():
            return int(args.func(args) or 0)
    except SystemExit as exc:  # --help, --version: argparse has printed what was asked
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        return _fail(130, "interrupted", debug)
    except InputError as exc:
        return _fail(2, f"error: {exc}", debug)
    except ExternalError as exc:
        return _fail(3, f"error: {_one_line(exc)}", debug)
    except MemoryError as exc:
        return _fail(3, f"error: out of memory ({_one_line(exc)})", debug)
    except BrokenPipeError:  # the reader went away (`tensorbench list | head`): stop quietly
        try:  # so that the interpreter's final flush of stdout is silent too
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 141
    except OSError as exc:  # a file system fault not tied to one input we name
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(3, f"error: {where}{exc.strerror or _one_line(exc)}", debug)
    except Exception as exc:  # a bug: say so in one line; --debug shows where
        hint = "" if debug else " (rerun with --debug for the traceback)"
        return _fail(3, f"internal error: {exc.__class__.__name__}: {_one_line(exc)}{hint}", debug)
