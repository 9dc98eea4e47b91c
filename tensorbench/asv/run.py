"""Drive asv for `tensorbench run / compare / publish`, and keep its results database honest.

asv does the timing and the storage; this module adds what a fair comparison needs and asv
lacks:

- existing environments get stable names (``existing-main``, ``existing-mxnet``) instead of
  asv's absolute-path names, so history lines up across clones and machines;
- every result file carries a ``"tensorbench"`` entry (asv ignores unknown keys): the suites
  run, threads, BLAS kernel and framework build facts, and the reason for every skipped point;
- a suite run never erases results of another suite on the same commit: asv rewrites a whole
  benchmark's parameter grid, so points the new run skipped with "not in suite" keep the values
  an earlier run measured.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError
from .grid import GRID
from .suites import Suite

REPO = Path(__file__).resolve().parents[1]
ENVS = {"main": ".venv", "mxnet": ".venv-mxnet"}
COMPARE_MACHINE = "tensorbench-compare"  # compare's throwaway results use one fixed name


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


# -- machine -------------------------------------------------------------------------------


def machine_name(info: dict[str, Any]) -> str:
    """A stable, non-personal machine name: CPU family, cores, GPU model (no hostname)."""
    m = info["machine"]
    cpu = re.sub(r"\(r\)|\(tm\)|cpu|processor|@.*|\d+-core", "", m["cpu"].lower())
    words = [w for w in re.split(r"[^a-z0-9]+", cpu) if w][:3]
    name = "-".join(words + [f"{m['cores']}c"])
    for gpu in m.get("gpus", [])[:1]:
        name += (
            "-"
            + "-".join(
                w
                for w in re.split(r"[^a-z0-9]+", gpu["name"].lower())
                if w and w not in ("nvidia", "tesla")
            )[:20]
        )
    return name


def machine_facts(info: dict[str, Any], name: str) -> dict[str, str]:
    """asv's machine.json fields (strings), from `tensorbench info`; no hostname, no user."""
    m = info["machine"]
    gpu = "; ".join(f"{g['name']} (driver {g['driver']})" for g in m.get("gpus", []))
    return {
        "machine": name,
        "os": m["os"],
        "arch": m["arch"],
        "cpu": m["cpu"] + (f" + {gpu}" if gpu else ""),
        "num_cpu": str(m["logical_cpus"]),
        "ram": f"{m['memory_gib']}GB",
    }


def ensure_machine(info: dict[str, Any], name: str | None = None) -> str:
    """Record this machine in asv's machine file (~/.asv-machine.json); returns its name.

    Written directly: `asv machine --yes` kept only --ram of the facts passed to it here.
    asv copies the entry into results/<machine>/machine.json on every run.
    """
    name = name or machine_name(info)
    path = Path.home() / ".asv-machine.json"
    try:
        data = json.loads(path.read_text()) if path.exists() else {}
    except ValueError:
        data = {}
    data[name] = machine_facts(info, name)
    data["version"] = 1
    path.write_text(json.dumps(data, indent=4))
    return name


# -- facts and skip reasons, computed inside each environment ------------------------------


def env_python(env: str, repo: Path = REPO) -> Path:
    python = repo / ENVS[env] / "bin" / "python"
    if not python.exists():
        raise InputError(f"environment {env!r} is missing ({python}); run scripts/setup_envs.sh")
    return python


def probe_env(python: Path, suite: Suite | None, threads: int | None) -> dict[str, Any]:
    """Facts and skip reasons as that environment sees them (runs in its own interpreter)."""
    env = dict(os.environ)
    if suite is not None:
        env["TENSORBENCH_SUITE"] = suite.path
    if threads:
        env["TENSORBENCH_THREADS"] = str(threads)
    res = subprocess.run(
        [str(python), "-m", "tensorbench.asv_probe"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    if res.returncode:
        raise AsvError(f"{python} -m tensorbench.asv_probe failed: {res.stderr.strip()[-2000:]}")
    return json.loads(res.stdout)


# -- result files ---------------------------------------------------------------------------


def _load(path: Path) -> dict[str, Any]:
    with open(path) as f:
        return json.load(f)


def _save(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w") as f:
        json.dump(data, f, separators=(",", ":"))  # asv writes NaN as a bare NaN too
    tmp.replace(path)


def _is_missing(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def merge_results(new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """Keep ``old`` values where ``new`` skipped a point that ``old`` measured.

    Only within a benchmark whose parameter grid and version are unchanged, and only for points
    the new run skipped (NaN): an earlier value or failure (null) of that commit comes back;
    a point the new run measured or saw fail is never replaced.
    """
    cols = new.get("result_columns", [])
    if old.get("result_columns") != cols or "result" not in cols:
        return new
    i_res, i_par, i_ver = cols.index("result"), cols.index("params"), cols.index("version")
    for name, old_entry in old.get("results", {}).items():
        entry = new["results"].get(name)
        if entry is None:
            new["results"][name] = old_entry
            new.setdefault("durations", {}).update(
                {k: v for k, v in old.get("durations", {}).items() if k.startswith(name)}
            )
            continue
        if entry[i_par] != old_entry[i_par] or entry[i_ver] != old_entry[i_ver]:
            continue
        for j, (value, old_value) in enumerate(zip(entry[i_res], old_entry[i_res], strict=False)):
            if _is_missing(value) and not _is_missing(old_value):
                for c in range(len(cols)):
                    if c in (i_par, i_ver) or not isinstance(entry[c], list):
                        continue
                    if (
                        isinstance(old_entry[c], list)
                        and j < len(old_entry[c])
                        and j < len(entry[c])
                    ):
                        entry[c][j] = old_entry[c][j]
    return new


def _grid_key(benchmark: str) -> str | None:
    """``bench_array.Matmul.time_matmul`` -> ``matmul`` (method suffix names the grid entry)."""
    method = benchmark.rsplit(".", 1)[-1]
    key = method.split("_", 1)[1] if "_" in method else method
    return key if key in GRID else None


def read_work_log(path: Path) -> dict[str, dict[str, dict[str, float | None]]]:
    """grid key -> {param key: {"flops", "edges"}} from the benchmark processes' log."""
    work: dict[str, dict[str, dict[str, float | None]]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                rec = json.loads(line)
                work.setdefault(rec["bench"], {})[rec["param_key"]] = {
                    "flops": rec["flops"],
                    "edges": rec["edges"],
                }
            except (ValueError, KeyError, TypeError):
                continue  # a torn line from a killed process: that point has no work figure
    return work


def annotate(
    data: dict[str, Any],
    env: str,
    probe: dict[str, Any],
    suite: Suite | None,
    dirty: bool,
    work: dict[str, dict] | None = None,
) -> dict[str, Any]:
    """Stable env name, python version, and the "tensorbench" facts entry."""
    data["env_name"] = env
    data.setdefault("params", {})["python"] = probe["python"]
    data["python"] = probe["python"]
    for k, v in probe["params"].items():  # searchable in asv publish: threads, blas, builds
        data["params"][k] = v
    previous = data.get("tensorbench", {})
    suites = sorted(set(previous.get("suites", [])) | ({suite.name} if suite else set()))
    reasons = dict(previous.get("skip_reasons", {}))
    works = dict(previous.get("work", {}))
    for name in data.get("results", {}):
        key = _grid_key(name)
        if key and key in probe["skip_reasons"]:
            reasons[name] = {**reasons.get(name, {}), **probe["skip_reasons"][key]}
        if key and work and key in work:
            works[name] = {**works.get(name, {}), **work[key]}
    data["tensorbench"] = {
        "suites": suites,
        "threads": probe["threads"],
        "facts": probe["facts"],
        "skip_reasons": reasons,  # benchmark -> {param_key: reason}
        "work": works,  # benchmark -> {param_key: {"flops", "edges"}} of one call
        "dirty_tree": dirty or previous.get("dirty_tree", False),
    }
    return data


def _result_files(machine_dir: Path, commit: str) -> dict[str, Path]:
    return {str(p): p for p in machine_dir.glob(f"{commit[:8]}-*.json")}


@dataclass
class EnvRun:
    env: str
    result_file: Path | None
    asv_exit: int


def run_existing(
    env: str,
    suite: Suite | None,
    machine: str,
    commit: str,
    threads: int | None = None,
    graph_dir: str | None = None,
    bench: str | None = None,
    python: Path | None = None,
    repo: Path = REPO,
) -> EnvRun:
    """Run ``suite`` in an existing environment, label it ``commit``, post-process the result.

    ``python`` defaults to the project's environment ``env`` (.venv, .venv-mxnet); on a machine
    with its own interpreter (a GPU box) pass it, and ``env`` becomes just the label.
    """
    python = python or env_python(env, repo)
    dirty = bool(git("status", "--porcelain", "--untracked-files=no", cwd=repo))
    probe = probe_env(python, suite, threads)
    machine_dir = repo / "results" / machine
    ours = machine_dir / f"{commit[:8]}-existing-{env}.json"
    old = _load(ours) if ours.exists() else None
    for stale in machine_dir.glob(f"{commit[:8]}-existing-py*.json"):
        stale.unlink()  # an interrupted run's path-named file: ours holds what was kept

    work_log = Path(tempfile.mkstemp(prefix="tensorbench-work-", suffix=".jsonl")[1])
    run_env = dict(os.environ, TENSORBENCH_WORK_LOG=str(work_log))
    if suite is not None:
        run_env["TENSORBENCH_SUITE"] = suite.path
    if threads:
        run_env["TENSORBENCH_THREADS"] = str(threads)
    if graph_dir:
        run_env["TENSORBENCH_GRAPH_DIR"] = str(Path(graph_dir).resolve())
    args = [
        "run",
        "-E",
        f"existing:{python}",
        "--set-commit-hash",
        commit,
        "--machine",
        machine,
        "--show-stderr",
    ]
    pattern = bench or suite_bench_regex(suite)
    if pattern:
        args += ["--bench", pattern]
    code = run_asv(args, cwd=repo, env=run_env)
    produced = sorted(machine_dir.glob(f"{commit[:8]}-existing-py*.json"))
    work = read_work_log(work_log)
    work_log.unlink(missing_ok=True)
    if not produced:
        return EnvRun(env, None, code or 1)
    data = _load(produced[0])
    if old is not None:
        data = merge_results(data, old)
    _save(ours, annotate(data, f"existing-{env}", probe, suite, dirty, work))
    for p in produced:
        p.unlink()
    return EnvRun(env, ours, code)


def suite_bench_regex(suite: Suite | None) -> str | None:
    """asv --bench regex selecting exactly the suite's parameter points.

    asv matches a parametrised benchmark as ``name(v1, v2, ...)`` (values as repr strings) and
    runs only the matching points, so points outside the suite cost nothing.
    """
    if suite is None:
        return None

    def alt(values: Iterable[Any]) -> str:
        return "(?:" + "|".join(re.escape(repr(v)) for v in sorted(values, key=str)) + ")"

    parts = []
    for key, sel in sorted(suite.workloads.items()):
        fields = [alt(sel.backends), alt(sel.sizes), alt(sel.dtypes)]
        if GRID[key].threads:
            fields.append(alt(sel.threads))
        parts.append(rf"_{re.escape(key)}\(" + ", ".join(fields) + r"\)$")
    return "|".join(parts)


def postprocess_managed(
    machine: str,
    commits: Iterable[str],
    snapshots: dict[str, dict],
    probe: dict[str, Any],
    suite: Suite | None,
    repo: Path = REPO,
) -> list[Path]:
    """Merge and annotate result files that managed-environment runs wrote."""
    written = []
    for commit in commits:
        for key, path in _result_files(repo / "results" / machine, commit).items():
            if "-existing-" in path.name:
                continue  # existing-environment files carry their own environment's facts
            data = _load(path)
            if key in snapshots:
                data = merge_results(data, snapshots[key])
            _save(path, annotate(data, data["env_name"], probe, suite, False))
            written.append(path)
    return written


def snapshot(machine: str, repo: Path = REPO) -> dict[str, dict]:
    folder = repo / "results" / machine
    return {str(p): _load(p) for p in folder.glob("*.json") if p.name != "machine.json"}


def run_managed(
    suite: Suite | None,
    machine: str,
    commits: str = "HEAD^!",
    threads: int | None = None,
    config: Path | None = None,
    repo: Path = REPO,
) -> int:
    """asv run over a commit range in asv's own virtualenvs (built on first use)."""
    snaps = snapshot(machine, repo)
    run_env = dict(os.environ)
    if suite is not None:
        run_env["TENSORBENCH_SUITE"] = suite.path
    if threads:
        run_env["TENSORBENCH_THREADS"] = str(threads)
    args = ["run", commits, "--machine", machine, "--show-stderr"]
    if config:
        args += ["--config", str(config)]
    pattern = suite_bench_regex(suite)
    if pattern:
        args += ["--bench", pattern]
    code = run_asv(args, cwd=repo, env=run_env)
    hashes = git("rev-list", commits, cwd=repo).split()
    probe = probe_env(env_python("main", repo), suite, threads)
    probe["facts"] = {"note": "managed asv environment; see requirements"}
    postprocess_managed(machine, hashes, snaps, probe, suite, repo)
    return code


def matrix_config(spec: str, repo: Path = REPO) -> Path:
    """A temporary asv config whose matrix varies one framework: ``numpy=1.26.4,2.0.2,2.4.x``."""
    name, _, versions = spec.partition("=")
    values = [v.strip().replace(".x", ".*") for v in versions.split(",") if v.strip()]
    if not name or not values:
        raise InputError(f"--matrix {spec!r}: expected NAME=V1,V2,... (e.g. numpy=1.26.4,2.4.x)")
    conf = _read_asv_conf(repo / "asv.conf.json")
    req = {k: v for k, v in conf["matrix"]["req"].items() if k not in ("mxnet",)}
    req.update({"numpy": [""], "scipy": [""], "jax": [""], name: values})
    conf["matrix"] = {"req": req}
    conf.pop("exclude", None)
    conf["repo"] = str(repo)
    for key in ("benchmark_dir", "results_dir", "html_dir", "env_dir"):
        conf[key] = str(repo / conf[key])
    out = Path(tempfile.mkdtemp(prefix="tensorbench-matrix-")) / "asv.conf.json"
    out.write_text(json.dumps(conf, indent=2))
    return out


def _read_asv_conf(path: Path) -> dict[str, Any]:
    """asv.conf.json allows // comments; strip whole-line ones before parsing."""
    if not path.exists():
        raise InputError(f"no asv config at {path}")
    text = "\n".join(
        line for line in path.read_text().splitlines() if not line.strip().startswith("//")
    )
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None


# -- compare: the per-commit gate ----------------------------------------------------------


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
    from .regressions import compare_commits
    from .results import load_results

    config = Path(config or REPO / "asv.conf.json").resolve()
    conf = _read_asv_conf(config)
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
            env = dict(os.environ)
            env["PYTHONPATH"] = os.pathsep.join([str(tree), env.get("PYTHONPATH", "")]).rstrip(
                os.pathsep
            )
            if suite is not None:
                env["TENSORBENCH_SUITE"] = suite.path
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
        _asv_cmd("machine", "--yes", "--machine", COMPARE_MACHINE, "--config", str(conf_path)),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ).returncode


def publish(repo: Path = REPO) -> Path:
    """asv publish into the ignored html folder; returns its path."""
    if run_asv(["publish"], cwd=repo):
        raise AsvError("asv publish failed")
    return repo / ".asv" / "html"
