"""Which checkout a command works in (`run`, `compare`, `publish`, `bisect`, `--confirm`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import InputError

REPO_HELP = (
    "the tensorbench checkout to work in (default: the one holding the current directory, "
    "else the one this package was installed from)"
)


def project(args: argparse.Namespace) -> Path:
    """The checkout this command works in, said on stderr (see REPO_HELP)."""
    from ..conventions import resolve_project

    try:
        repo, how = resolve_project(args.repo)
    except FileNotFoundError as exc:
        raise InputError(str(exc)) from None
    print(f"tensorbench: project {repo} ({how})", file=sys.stderr)
    return repo
