"""Run asv and git as subprocesses, and find the project's environments."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from ..conventions import REPO
from ..errors import ExternalError, InputError

ENVS = {"main": ".venv", "mxnet": ".venv-mxnet"}


class AsvError(ExternalError):
    """asv itself failed or is missing (not a benchmark): the CLI exits 3."""


def asv_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "asv", *args]


def require_asv() -> None:
    """Raise AsvError when asv cannot be imported by this interpreter (it runs as ``-m asv``)."""
    if importlib.util.find_spec("asv") is None:
        raise AsvError(
            f"asv is not installed for {sys.executable} (pip install 'asv>=0.6,<0.7' virtualenv)"
        )


def run_asv(
    args: Sequence[str], cwd: Path = REPO, env: dict[str, str] | None = None, quiet: bool = False
) -> int:
    """Run asv with its progress visible (or captured when ``quiet``); returns its exit code."""
    require_asv()
    out = subprocess.DEVNULL if quiet else None
    return subprocess.run(asv_command(*args), cwd=cwd, env=env, stdout=out, stderr=out).returncode


def git(*args: str, cwd: Path = REPO) -> str:
    try:
        res = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    except FileNotFoundError:
        raise ExternalError("git is not installed (or not on PATH)") from None
    if res.returncode:
        raise InputError(f"git {' '.join(args)} in {cwd}: {res.stderr.strip() or 'failed'}")
    return res.stdout.strip()


def env_python(env: str, repo: Path = REPO) -> Path:
    python = repo / ENVS[env] / "bin" / "python"
    if not python.exists():
        raise InputError(f"environment {env!r} is missing ({python}); run scripts/setup_envs.sh")
    return python
