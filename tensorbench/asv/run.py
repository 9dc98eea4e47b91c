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

import itertools
import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import noise
from ..conventions import GRAPH_DIR_ENV, REPO, SUITE_ENV, THREADS_ENV, WORK_LOG_ENV, param_key_of
from ..errors import ExternalError, InputError
from ..threads import available_cores
from . import instructioncounts, instructions
from .grid import GRID, TIMED_BY, counted_key, point
from .process import AsvError, env_python, git, run_asv
from .resultfiles import (
    annotate,
    load_result,
    merge_results,
    read_work_log,
    result_files,
    save_result,
    snapshot,
)
from .suites import Suite

PROBE_MODULE = "tensorbench.asv.probe"  # run inside each environment's own interpreter
MEASURES = ("time", "instructions")  # `tensorbench run --measure`


def run_env(
    suite: Suite | None, threads: int | None = None, repo: Path = REPO, **extra: str
) -> dict[str, str]:
    """This process's environment plus the suite and threads that benchmark processes read.

    When ``repo`` is another checkout than the one this package was loaded from, it goes first
    on PYTHONPATH: its benchmarks then time its own ``tensorbench``, not the installed one.
    """
    env = dict(os.environ, **extra)
    if suite is not None:
        env[SUITE_ENV] = str(Path(suite.path).resolve())  # benchmark processes run elsewhere
    if threads:
        env[THREADS_ENV] = str(threads)
    if Path(repo).resolve() != REPO and (Path(repo) / "tensorbench").is_dir():
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(Path(repo).resolve()), env.get("PYTHONPATH", "")) if p
        )
    return env


def probe_env(
    python: Path, suite: Suite | None, threads: int | None, repo: Path = REPO
) -> dict[str, Any]:
    """Facts and skip reasons as that environment sees them (runs in its own interpreter)."""
    res = subprocess.run(
        [str(python), "-m", PROBE_MODULE],
        capture_output=True,
        text=True,
        env=run_env(suite, threads, repo),
        cwd=repo,
    )
    if res.returncode:
        raise AsvError(f"{python} -m {PROBE_MODULE} failed: {res.stderr.strip()[-2000:]}")
    return json.loads(res.stdout)


@dataclass
class EnvRun:
    env: str
    result_file: Path | None
    asv_exit: int
    facts: dict[str, Any] | None = None  # the environment's probe: its frameworks' builds


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
    measure: str = "time",
    earlier: dict[str, dict[str, Any]] | None = None,
) -> EnvRun:
    """Run ``suite`` in an existing environment, label it ``commit``, post-process the result.

    ``earlier``: the facts of environments this run has timed the suite in already (env ->
    probe facts); a framework whose build is the same here is not timed again (`same_builds`).

    ``python`` defaults to the project's environment ``env`` (.venv, .venv-mxnet); on a machine
    with its own interpreter (a GPU box) pass it, and ``env`` becomes just the label.
    ``measure="instructions"`` first counts the suite's CPU points under valgrind
    (:mod:`.instructions`), then runs only the instruction benchmarks, which read the counts.
    """
    if measure not in MEASURES:
        raise InputError(f"--measure {measure!r}: valid: {', '.join(MEASURES)}")
    if measure == "instructions":
        reason = instructions.valgrind_reason()
        if reason:
            raise ExternalError(f"--measure instructions: {reason}")
    python = python or env_python(env, repo)
    dirty = bool(git("status", "--porcelain", "--untracked-files=no", cwd=repo))
    probe = probe_env(python, suite, threads, repo)
    same: dict[str, str] = {}
    if earlier and bench is None and measure == "time" and suite is not None:
        same = same_builds(earlier, probe.get("facts", {}))
        for key, reasons in same_build_reasons(suite, same).items():
            probe.setdefault("skip_reasons", {}).setdefault(key, {}).update(reasons)
        if same:
            print(f"== {env}: not timed again here: {'; '.join(same.values())}")
    machine_dir = repo / "results" / machine
    ours = machine_dir / f"{commit[:8]}-existing-{env}.json"
    old = _load_kept(ours)
    for stale in machine_dir.glob(f"{commit[:8]}-existing-py*.json"):
        stale.unlink()  # an interrupted run's path-named file: ours holds what was kept

    fd, name = tempfile.mkstemp(prefix="tensorbench-work-", suffix=".jsonl")
    os.close(fd)
    work_log = Path(name)
    child_env = run_env(suite, threads, repo, **{WORK_LOG_ENV: str(work_log)})
    if child_env.get("PYTHONPATH"):
        # asv's benchmark.py removes PYTHONPATH's entries from sys.path unless ASV_PYTHONPATH
        # names them: an existing interpreter that finds this package (or another checkout's)
        # only through PYTHONPATH would otherwise import none, or silently the installed one.
        child_env["ASV_PYTHONPATH"] = child_env["PYTHONPATH"]
    if graph_dir:
        child_env[GRAPH_DIR_ENV] = str(Path(graph_dir).resolve())
    counted: dict[str, Any] | None = None
    if measure == "instructions":
        fd, name = tempfile.mkstemp(prefix="tensorbench-instructions-", suffix=".json")
        os.close(fd)
        counts_file = Path(name)
        try:
            counted = count_instructions(python, env, suite, probe, child_env, repo, counts_file)
        except BaseException:
            counts_file.unlink(missing_ok=True)
            raise
        child_env[instructions.COUNTS_ENV] = str(counts_file)
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
    if measure == "instructions":
        pattern = instructions_bench_regex(suite, bench)
    else:
        pattern = bench or suite_bench_regex(suite, skip_frameworks=frozenset(same))
    if pattern:
        args += ["--bench", pattern]
    load = {"start": noise.snapshot()}
    try:  # the work log goes however the run ends (Ctrl-C, asv failing or missing)
        code = run_asv(args, cwd=repo, env=child_env)
        work = read_work_log(work_log)
    finally:
        work_log.unlink(missing_ok=True)
        if counted is not None:
            Path(child_env[instructions.COUNTS_ENV]).unlink(missing_ok=True)
    load["end"] = noise.snapshot()
    produced = sorted(machine_dir.glob(f"{commit[:8]}-existing-py*.json"))
    if not produced:
        return EnvRun(env, None, code or 1, probe.get("facts"))
    data = load_result(produced[0])
    previous = (old or {}).get("tensorbench")
    previous = previous if isinstance(previous, dict) else {}
    if old is not None:
        data = merge_results(data, old)
    if counted is None:
        data = annotate(data, f"existing-{env}", probe, suite, dirty, work, load)
        busy = noise.busy_reason(load["start"], load["end"])
        if busy:
            print(f"warning: {env}: {busy}; its results are marked busy")
        keep_facts_of_other_runs(data, previous)
    else:
        # An instruction run adds to the timed results' facts (their work, suites, reasons);
        # counts do not depend on load, so the file keeps its timed results' busy mark.
        data["tensorbench"] = json.loads(json.dumps(previous))
        data = annotate(data, f"existing-{env}", probe, suite, dirty, work)
        for key in ("load", "busy"):
            if key in previous:
                data["tensorbench"][key] = previous[key]
        add_instruction_facts(data, counted)
    save_result(ours, data)
    for p in produced:
        p.unlink()
    return EnvRun(env, ours, code, probe.get("facts"))


def same_builds(earlier: dict[str, dict[str, Any]], facts: dict[str, Any]) -> dict[str, str]:
    """Frameworks this environment shares, build for build (version, BLAS, CUDA, threads: the
    probe's whole entry), with an environment the same run timed before: framework -> why its
    points are not timed again here. Timing the same build twice in one run (torch in both
    `main` and `mxnet`) adds a quarter to the quick suite and tells nothing new; a framework
    that differs in anything (NumPy 2.4 against 1.23) is timed in both."""
    out: dict[str, str] = {}
    mine = facts.get("backends", {})
    for env, theirs in earlier.items():
        for name, f in theirs.get("backends", {}).items():
            if name not in out and f.get("available") and mine.get(name) == f:
                out[name] = (
                    f"{name} {f.get('version')}: the same build as in environment {env}, "
                    "timed there in this run"
                )
    return out


def same_build_reasons(suite: Suite, same: dict[str, str]) -> dict[str, dict[str, str]]:
    """grid key -> {asv param key: reason} for the suite's points of the frameworks in ``same``
    (`same_builds`), so that the result file says why they have no value."""
    out: dict[str, dict[str, str]] = {}
    for key in suite.workloads:
        if key not in GRID or not same:
            continue
        entry = GRID[key]
        for combo in itertools.product(*entry.params):
            p = point(key, *combo)
            why = same.get(p.backend.partition(":")[0])
            if why and suite.selects(key, p.backend, p.size, p.dtype, p.threads):
                out.setdefault(key, {})[param_key_of(entry.param_names, combo)] = why
    return out


def _load_kept(path: Path) -> dict[str, Any] | None:
    """The earlier result file a run merges into, or None; InputError (before anything runs)
    when it exists but cannot be read, so that it is never overwritten with less."""
    if not path.exists():
        return None
    try:
        data = load_result(path)
    except (OSError, ValueError) as exc:
        raise InputError(
            f"{path}: earlier results of this commit cannot be read ({exc}); move the file "
            "away to run again (it is left as it is)"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
        raise InputError(f"{path}: not an asv result file; move it away to run again")
    return data


def suite_bench_regex(
    suite: Suite | None, prefix: str = "", skip_frameworks: frozenset[str] = frozenset()
) -> str | None:
    """asv --bench regex selecting exactly the suite's parameter points.

    asv matches a parametrised benchmark as ``module.Class.method(v1, v2, ...)`` (values as repr
    strings) and runs only the matching points, so points outside the suite cost nothing. A
    grid entry is found by its classes (`TIMED_BY`), not by method names: the ``*_modes``
    classes' methods are named after the workload (``MatmulModes.time_matmul``), so a name
    built from the entry's key selected none of them. Every mode of a ``*_modes`` entry runs
    (suites do not choose modes). The instruction benchmarks (``track_instructions_<key>``)
    match only with ``prefix="instructions"``: they read counts that only ``--measure
    instructions`` writes. Backends of ``skip_frameworks`` (``torch`` for ``torch:cpu``) are
    left out.
    """
    if suite is None:
        return None

    def alt(values: Iterable[Any]) -> str:
        return "(?:" + "|".join(re.escape(repr(v)) for v in sorted(values, key=str)) + ")"

    parts = []
    for key, sel in sorted(suite.workloads.items()):
        backends = [b for b in sel.backends if b.partition(":")[0] not in skip_frameworks]
        if not backends:
            continue
        fields = [alt(backends), alt(sel.sizes), alt(sel.dtypes)]
        if GRID[key].threads:
            fields.append(alt(sel.threads))
        if GRID[key].modes:
            fields.append(alt(GRID[key].modes))
        if prefix:
            if key not in instructions.SUPPORTED:
                continue
            name = rf"\.track_{prefix}_{re.escape(key)}\("
        else:
            classes = sorted(c for c, timed in TIMED_BY.items() if timed == key)
            name = r"\.(?:" + "|".join(classes) + r")\.(?:time|track|peakmem|mem)_\w+\("
        parts.append(name + ", ".join(fields) + r"\)$")
    return "|".join(parts) if parts else r"^$"


def instructions_bench_regex(suite: Suite | None, bench: str | None = None) -> str:
    """asv --bench regex for the instruction benchmarks of ``suite`` (all of them without one),
    narrowed further by a user's ``--bench``."""
    pattern = suite_bench_regex(suite, "instructions") or r"\.track_instructions_"
    if bench:
        pattern = rf"(?=.*(?:{bench}))(?:{pattern})"
    return pattern


def keep_facts_of_other_runs(data: dict[str, Any], previous: dict[str, Any]) -> None:
    """A timed run keeps what earlier instruction and scale-out runs of the commit recorded
    (their facts, their benchmarks' skip reasons): annotate rebuilds the facts entry from this
    run's probe, which knows neither."""
    for kept in ("instructions", "scaleout"):  # facts of runs that annotate does not know
        if kept in previous:
            data["tensorbench"][kept] = previous[kept]
    reasons = data["tensorbench"].setdefault("skip_reasons", {})
    for name, value in (previous.get("skip_reasons") or {}).items():
        ours = counted_key(name) is not None or name.startswith("bench_scaleout.")
        if ours and name in data.get("results", {}):
            reasons.setdefault(name, value)


def instruction_points(
    suite: Suite | None, probe: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, dict[str, str]]]:
    """The suite's points to count under valgrind, and the reasons of those that are not.

    CPU points only, at one thread; points the environment's probe already skips (framework
    missing, graph folder unset) keep the probe's reason without starting valgrind.
    """
    from .points import grid_params  # imports the measuring modules: only when counting

    todo: list[dict[str, Any]] = []
    reasons: dict[str, dict[str, str]] = {}
    for key in instructions.SUPPORTED:
        if key not in GRID or (suite is not None and key not in suite.workloads):
            continue
        params, names = grid_params(key)
        probed = probe.get("skip_reasons", {}).get(key, {})
        for combo in itertools.product(*params):
            if suite is not None and not suite.selects(key, *combo):
                continue
            pk = param_key_of(names, combo)
            if not str(combo[0]).endswith(":cpu"):
                reasons.setdefault(key, {})[pk] = "instructions are counted on the CPU only"
            elif pk in probed:
                reasons.setdefault(key, {})[pk] = probed[pk]
            elif unstable := instructions.unstable_reason(str(combo[0])):
                reasons.setdefault(key, {})[pk] = unstable
            else:
                todo.append({"bench": key, "params": list(combo)})
    return todo, reasons


def count_instructions(
    python: Path,
    env: str,
    suite: Suite | None,
    probe: dict[str, Any],
    child_env: dict[str, str],
    repo: Path,
    counts_file: Path,
) -> dict[str, Any]:
    """The valgrind pre-pass of one environment: count, write the counts file, return what the
    result file records (per point: calls counted, skip reasons; the tool; the wall time)."""
    todo, reasons = instruction_points(suite, probe)
    print(f"== {env}: counting {len(todo)} CPU points under valgrind (one thread)")
    t0 = time.perf_counter()
    # a count does not depend on the load: one valgrind process (one backend) per core
    jobs = available_cores()
    records = instructions.count_points(
        python,
        todo,
        env=child_env,
        cwd=repo,
        log=lambda m: print(f"   {m}", flush=True),
        jobs=jobs,
    )
    wall = time.perf_counter() - t0
    facts = {
        "tool": f"{instructions.valgrind_version()} callgrind (client requests)",
        "threads": 1,
        "wall_s": round(wall, 1),
        "points": len(todo),
        "jobs": jobs,
    }
    instructioncounts.write_counts(counts_file, records, facts)
    calls: dict[str, dict[str, int]] = {}
    for r in records:
        if r.get("instructions") is not None:
            calls.setdefault(r["bench"], {})[r["param_key"]] = r["calls"]
        elif r.get("skip") or r.get("error"):
            reasons.setdefault(r["bench"], {})[r["param_key"]] = r.get("skip") or r["error"]
    print(f"== {env}: counted in {wall:.0f} s")
    return {**facts, "calls": calls, "skip_reasons": reasons}


def add_instruction_facts(data: dict[str, Any], counted: dict[str, Any]) -> None:
    """Skip reasons of the instruction benchmarks (asv keeps none) and the counting facts.

    Reasons of earlier runs stay for points this run did not count; a point counted now
    loses its old reason.
    """
    reasons = data["tensorbench"].setdefault("skip_reasons", {})
    for name in data.get("results", {}):
        key = counted_key(name)
        if key is None:
            continue
        counted_now = counted["calls"].get(key, {})
        kept = {k: v for k, v in reasons.get(name, {}).items() if k not in counted_now}
        reasons[name] = {**kept, **counted["skip_reasons"].get(key, {})}
    data["tensorbench"]["instructions"] = {k: v for k, v in counted.items() if k != "skip_reasons"}


def postprocess_managed(
    machine: str,
    commits: Iterable[str],
    snapshots: dict[str, dict],
    probe: dict[str, Any],
    suite: Suite | None,
    repo: Path = REPO,
    load: dict[str, Any] | None = None,
) -> list[Path]:
    """Merge and annotate result files that managed-environment runs wrote."""
    written = []
    for commit in commits:
        for key, path in result_files(repo / "results" / machine, commit).items():
            if "-existing-" in path.name:
                continue  # existing-environment files carry their own environment's facts
            data = load_result(path)
            if key in snapshots:
                data = merge_results(data, snapshots[key])
            save_result(path, annotate(data, data["env_name"], probe, suite, False, load=load))
            written.append(path)
    return written


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
    args = ["run", commits, "--machine", machine, "--show-stderr"]
    if config:
        args += ["--config", str(config)]
    pattern = suite_bench_regex(suite)
    if pattern:
        args += ["--bench", pattern]
    load = {"start": noise.snapshot()}
    code = run_asv(args, cwd=repo, env=run_env(suite, threads, repo))
    load["end"] = noise.snapshot()
    # asv runs the first-parent commits of a range (asv.plugins.git): the same ones here.
    hashes = git("rev-list", "--first-parent", commits, cwd=repo).split()
    probe = probe_env(env_python("main", repo), suite, threads, repo)
    probe["facts"] = {"note": "managed asv environment; see requirements"}
    postprocess_managed(machine, hashes, snaps, probe, suite, repo, load)
    return code


def matrix_config(spec: str, repo: Path = REPO) -> Path:
    """A temporary asv config whose matrix varies one framework: ``numpy=1.26.4,2.0.2,2.4.x``."""
    name, _, versions = spec.partition("=")
    name = name.strip()
    values = [v.strip().replace(".x", ".*") for v in versions.split(",") if v.strip()]
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name) or not values:
        raise InputError(f"--matrix {spec!r}: expected NAME=V1,V2,... (e.g. numpy=1.26.4,2.4.x)")
    conf = read_asv_conf(repo / "asv.conf.json")
    matrix = conf.get("matrix") if isinstance(conf.get("matrix"), dict) else {}
    req = {k: v for k, v in dict(matrix.get("req") or {}).items() if k not in ("mxnet",)}
    req.update({"numpy": [""], "scipy": [""], "jax": [""], name: values})
    conf["matrix"] = {"req": req}
    conf.pop("exclude", None)
    conf["repo"] = str(repo)
    for key in ("benchmark_dir", "results_dir", "html_dir", "env_dir"):
        conf[key] = str(repo / conf[key])
    out = Path(tempfile.mkdtemp(prefix="tensorbench-matrix-")) / "asv.conf.json"
    out.write_text(json.dumps(conf, indent=2))
    return out


def read_asv_conf(path: Path) -> dict[str, Any]:
    """asv.conf.json allows // comments; strip whole-line ones before parsing."""
    if not path.exists():
        raise InputError(f"no asv config at {path}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read as UTF-8 text ({exc})") from None
    # comment lines become blank lines, so JSON errors keep their line numbers
    text = "\n".join("" if line.strip().startswith("//") else line for line in lines)
    try:
        conf = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: line {exc.lineno}: not valid JSON: {exc.msg}") from None
    if not isinstance(conf, dict):
        raise InputError(f"{path}: expected a JSON object, found a {type(conf).__name__}")
    return conf


def publish(repo: Path = REPO) -> Path:
    """asv publish into the ignored html folder; returns its path."""
    if run_asv(["publish"], cwd=repo):
        raise AsvError("asv publish failed")
    return repo / ".asv" / "html"
