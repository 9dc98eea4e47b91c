"""One environment per framework release: built once with pip, reused, checked by import.

`tensorbench run --releases torch=2.11,2.12` times the suite in one virtualenv per release
(``.asv/releases/torch-2.11``), each holding that release, this package (editable, so today's
code is what runs) and what the package and asv's benchmark runner need, resolved by pip
alongside the release (an older torch gets a NumPy it accepts; the result's facts say which).
asv then runs in it as an existing environment, so its probe records that environment's own
build facts (CPU or CUDA build, BLAS and its kernel, oneDNN) beside the timings.

Why our own virtualenvs rather than asv's managed matrix: a release that cannot install or
import must be reported with its first error line while the other releases run, and the
environment's facts must come from its own interpreter; asv's matrix builds report neither.
A built environment is reused while the requirements it was built from are unchanged (a marker
file in it says which); one that fails to build is removed, so the next run tries again.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..analysis.releases import ReleaseSet
from ..conventions import REPO

RELEASES_DIR = Path(".asv") / "releases"
MARKER = "tensorbench-release.json"
# What every release environment holds besides the release: the package's own dependencies and
# asv's benchmark runner at the version the harness relies on (pyproject.toml says why).
BASE = (
    "numpy",
    "scipy",
    "threadpoolctl",
    "psutil",
    "rich",
    "pandas",
    "orjson",
    "packaging",
    "asv_runner==0.2.5",
)
# What a framework's release needs beside it, and the module that must import.
EXTRA = {
    "dgl": ("torch==2.13.0", "setuptools<70"),  # DGL imports setuptools.extern (gone in 70)
    "mxnet": ("numpy<1.24",),  # MXNet 1.9 calls numpy.bool, removed in 1.24
}
MODULE = {"torch": "torch", "numpy": "numpy", "jax": "jax", "scipy": "scipy", "dgl": "dgl"}

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


@dataclass(frozen=True)
class ReleaseEnv:
    """A release's environment: its interpreter, or why it could not be built."""

    framework: str
    version: str
    path: Path
    error: str | None = None  # the first error line of the step that failed
    reused: bool = False

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    @property
    def label(self) -> str:
        """The environment's name in the results: ``torch-2.12``."""
        return f"{self.framework}-{self.version}"


def _run(cmd: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), capture_output=True, text=True)


def first_error_line(output: str) -> str:
    """The line that says what went wrong: pip's first ``ERROR:`` line, else the last Python
    exception line of a traceback, else the last line there is."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("ERROR:"):
            # pip's resolver says "conflicting dependencies" first and why only further down
            # (a constraint such as this machine's torch<=2.14.1): keep the why with it
            if "The conflict is caused by:" in lines:
                at = lines.index("The conflict is caused by:")
                causes = [c for c in lines[at + 1 : at + 4] if c.startswith("The user requested")]
                line = f"{line} ({'; '.join(causes)})" if causes else line
            return line[:300]
    for line in reversed(lines):
        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception)\b", line):
            return line[:300]
    return (lines[-1] if lines else "no output")[:300]


def requirements(framework: str, version: str) -> list[str]:
    """pip requirements of one release's environment: the release first, then what it needs."""
    pinned = f"{framework}=={version}"
    extra = list(EXTRA.get(framework, ()))
    constrained = {re.split(r"[<>=!~]", r, maxsplit=1)[0] for r in extra} | {framework}
    return [pinned, *extra, *(b for b in BASE if b.split("=")[0] not in constrained)]


def build_release_env(
    rset: ReleaseSet,
    version: str,
    repo: Path = REPO,
    base_python: str = sys.executable,
    runner: Runner = _run,
) -> ReleaseEnv:
    """The environment of ``rset.framework`` at ``version``, built now or reused."""
    path = repo / RELEASES_DIR / f"{rset.framework}-{version}"
    env = ReleaseEnv(rset.framework, version, path)
    reqs = requirements(rset.framework, version)
    marker = path / MARKER
    try:
        if json.loads(marker.read_text())["requirements"] == reqs and env.python.exists():
            return ReleaseEnv(rset.framework, version, path, reused=True)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    shutil.rmtree(path, ignore_errors=True)
    module = MODULE.get(rset.framework, rset.framework)
    steps = [
        ("create the virtualenv", [base_python, "-m", "venv", str(path)]),
        # not -q: pip then leaves out why a resolution failed ("The conflict is caused by")
        ("install", [str(env.python), "-m", "pip", "install", *reqs]),
        (
            "install tensorbench",
            [str(env.python), "-m", "pip", "install", "-q", "--no-deps", "-e", str(repo)],
        ),
        ("import", [str(env.python), "-c", f"import {module}; print({module}.__version__)"]),
    ]
    for what, cmd in steps:
        proc = runner(cmd)
        if proc.returncode != 0:
            shutil.rmtree(path, ignore_errors=True)  # half-built: the next run starts over
            line = first_error_line(f"{proc.stdout or ''}\n{proc.stderr or ''}")
            return ReleaseEnv(rset.framework, version, path, error=f"{what}: {line}")
    marker.write_text(json.dumps({"requirements": reqs}, indent=2))
    return env
