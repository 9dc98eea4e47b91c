"""scripts/check_sizes.py: no function over 80 lines in tensorbench/analysis and
tensorbench/cli, no module over 600 lines in the package; the package keeps to both."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "check_sizes.py"


def run(package: Path | None = None) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, str(SCRIPT), *([str(package)] if package else [])]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def function(name: str, body_lines: int) -> str:
    return f"def {name}():\n" + "    x = 1\n" * (body_lines - 1)


def test_the_package_keeps_to_the_size_limits() -> None:
    done = run()
    offenders = done.stdout.strip()
    assert done.returncode == 0, f"over the size limits (scripts/check_sizes.py):\n{offenders}"
    assert offenders == ""


def test_long_functions_and_modules_are_named(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    for sub in ("analysis", "cli", "workloads"):
        (package / sub).mkdir(parents=True)
    (package / "analysis" / "ok.py").write_text(function("fits", 80))
    (package / "analysis" / "long.py").write_text(
        "class Reader:\n"
        + "".join("    " + line + "\n" for line in function("read", 81).splitlines())
    )
    (package / "cli" / "nested.py").write_text(
        "def outer():\n"
        + "".join("    " + line + "\n" for line in function("inner", 90).splitlines())
    )
    (package / "workloads" / "big.py").write_text(function("long_but_allowed", 200) + "\n" * 401)
    done = run(package)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "pkg/analysis/long.py:2: Reader.read() is 81 lines (limit 80)",
        "pkg/cli/nested.py:1: outer() is 91 lines (limit 80)",
        "pkg/cli/nested.py:2: outer.inner() is 90 lines (limit 80)",
        "pkg/workloads/big.py: module of 601 lines (limit 600)",
    ]


def test_at_the_limits_exits_0_and_a_missing_folder_2(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "cli").mkdir(parents=True)
    at_limits = function("fits", 80) + "\n" * 520  # an 80-line function, a 600-line module
    (tmp_path / "pkg" / "cli" / "ok.py").write_text(at_limits)
    done = run(tmp_path / "pkg")
    assert (done.returncode, done.stdout) == (0, "")
    missing = run(tmp_path / "none")
    assert missing.returncode == 2 and "not a folder" in missing.stderr
