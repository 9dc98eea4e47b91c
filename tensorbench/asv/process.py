"""Run asv and git as subprocesses, and find the project's environments."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from ..errors import InputError
from ..paths import REPO

ENVS = {"main": ".venv", "mxnet": ".venv-mxnet"}


class AsvError(RuntimeError):
    """asv itself failed (not a benchmark): its exit code and command."""


def _asv_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "asv", *args]


def run_asv(
    args: Sequence[str], cwd: Path = REPO, env: dict[str, str] | None = None, quiet: bool = False
) -> int:
    """Run asv with its progress visible (or captured when ``quiet``); returns its exit code."""
    out = subprocess.DEVNULL if quiet else None
    return subprocess.run(_asv_cmd(*args), cwd=cwd, env=env, stdout=out, stderr=out).returncode


def git(*args: str, cwd: Path = REPO) -> str:
    res = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if res.returncode:
        raise InputError(f"git {' '.join(args)}: {res.stderr.strip() or 'failed'}")
    return res.stdout.strip()


def env_python(env: str, repo: Path = REPO) -> Path:
    python = repo / ENVS[env] / "bin" / "python"
    if not python.exists():
        raise InputError(f"environment {env!r} is missing ({python}); run scripts/setup_envs.sh")
    return python
