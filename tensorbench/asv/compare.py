"""`tensorbench compare`: benchmark two commits in throwaway worktrees, the per-commit gate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ..analysis.regressions import compare_commits
from ..analysis.results import load_results
from ..conventions import REPO
from .process import AsvError, asv_command, git, run_asv
from .run import read_asv_conf, run_env, suite_bench_regex
from .suites import Suite

COMPARE_MACHINE = "tensorbench-compare"  # compare's throwaway results use one fixed name


def compare(
    base: str,
    head: str,
    factor: float = 1.1,
    config: Path | None = None,
    python: str | None = None,
    bench: str | None = None,
    suite: Suite | None = None,
    keep: Path | None = None,
) -> tuple[Any, Path]:
    """Benchmark ``base`` and ``head`` and return the rows that got slower beyond ``factor``.

    Each commit is checked out into a temporary worktree and benchmarked there in an existing
    environment (``python``, default: this interpreter) with that worktree first on PYTHONPATH,
    so both the benchmarks and the package under test are the commit's own. Results go to a
    temporary asv results directory (or ``keep``), never into the project's results/.
    """
    config = Path(config or REPO / "asv.conf.json").resolve()
    conf = read_asv_conf(config)
    project = (config.parent / conf.get("repo", ".")).resolve()
    top = Path(git("rev-parse", "--show-toplevel", cwd=project))
    hashes = [git("rev-parse", "--verify", f"{c}^{{commit}}", cwd=top) for c in (base, head)]
    out = Path(keep or tempfile.mkdtemp(prefix="tensorbench-compare-"))
    results_dir = out / "results"
    python = python or sys.executable
    bench_rel = Path(conf.get("benchmark_dir", "benchmarks"))
    conf_rel = config.parent.relative_to(top) if config.parent != top else Path()
    for commit in hashes:
        tree = out / f"tree-{commit[:8]}"
        if not tree.exists():
            git("worktree", "add", "--detach", str(tree), commit, cwd=top)
        try:
            tmp_conf = dict(conf)
            tmp_conf.update(
                repo=str(top),
                results_dir=str(results_dir),
                benchmark_dir=str(tree / conf_rel / bench_rel),
                html_dir=str(out / "html"),
                env_dir=str(out / "env"),
            )
            conf_path = out / f"asv-{commit[:8]}.conf.json"
            conf_path.write_text(json.dumps(tmp_conf))
            env = run_env(suite)
            env["PYTHONPATH"] = os.pathsep.join([str(tree), env.get("PYTHONPATH", "")]).rstrip(
                os.pathsep
            )
            args = [
                "run",
                "--config",
                str(conf_path),
                "-E",
                f"existing:{python}",
                "--set-commit-hash",
                commit,
                "--show-stderr",
                "--machine",
                COMPARE_MACHINE,
            ]
            if bench or suite is not None:
                args += ["--bench", bench or suite_bench_regex(suite) or "."]
            if ensure_machine_quiet(conf_path, env) or run_asv(args, cwd=tree, env=env):
                raise AsvError(f"asv run failed for {commit[:8]}")
        finally:
            git("worktree", "remove", "--force", str(tree), cwd=top)
    table = load_results(results_dir, repo=top).table
    return compare_commits(table, hashes[0], hashes[1], factor), results_dir


def ensure_machine_quiet(conf_path: Path, env: dict[str, str]) -> int:
    """asv needs a machine entry before `run`: write one under a fixed name, non-interactively."""
    return subprocess.run(
        asv_command("machine", "--yes", "--machine", COMPARE_MACHINE, "--config", str(conf_path)),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ).returncode
