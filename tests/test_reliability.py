"""The reliability sweeps: every bad input and fault ends in exit 2 with one line, a skip
with its reason, or the correct result; never a traceback, never a lost file, never a stale or
silent output (report, results cache and charts included).

Most cases run the CLI in-process (``main([...])``); a few run it as a subprocess to prove
that nothing reaches the terminal but the one line. No case runs asv for real.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tensorbench import conventions, threads
from tensorbench.asv import machine
from tensorbench.asv.suites import SuiteError, load_suite
from tensorbench.cli import main
from tensorbench.errors import ExternalError, InputError
from tensorbench.graphs import GraphWarning, load_graph

REPO = Path(__file__).resolve().parents[1]
CORES = threads.available_cores()


@pytest.fixture(autouse=True)
def _all_cores_again():
    yield
    threads.set_threads(None)  # a case that ran with --threads 1 must not pin later tests


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    """The single stderr line of an error (and assert that it is single, traceback-free)."""
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if not line.startswith("tensorbench: project ")]
    assert len(lines) == 1, err
    return lines[0]


# -- time / check / accuracy: bad values exit 2 with one line --------------------------------

TIME = ("time", "matmul", "--backend", "numpy", "--target-seconds", "0.01")

BAD_CLI = [
    ("size 0", [*TIME, "--size", "0"], "--size 0: must be >= 1 (matmul's size is n"),
    ("size -5", [*TIME, "--size", "-5"], "--size -5: must be >= 1"),
    ("threads -1", ["--threads", "-1", *TIME], f"--threads -1: must be 1..{CORES}"),
    ("threads 0", ["--threads", "0", *TIME], f"--threads 0: must be 1..{CORES}"),
    ("threads 999", ["--threads", "999", *TIME], f"--threads 999: must be 1..{CORES}"),
    ("matmul --graph", [*TIME, "--graph", "g.txt"], "--graph: matmul takes no graph"),
    (
        "scale 40",
        ["time", "pagerank", "--backend", "numpy", "--size", "40"],
        "R-MAT scale (2**scale nodes), valid 1..30",
    ),
    ("scale 0", ["time", "gcn_step", "--backend", "numpy", "--size", "0"], "valid 1..30"),
    ("target 0", [*TIME, "--target-seconds", "0"], "--target-seconds 0.0: must be in (0, 3600]"),
    ("dtype", [*TIME, "--dtype", "float16"], "unknown dtype 'float16' (valid: float32, float64)"),
    ("backend", ["time", "matmul", "--backend", "nump"], "unknown backend 'nump' (valid: numpy"),
    ("device", [*TIME, "--device", "cuda:x"], "unknown device 'cuda:x' (valid: cpu, cuda:N)"),
    ("workload", ["time", "matmull", "--backend", "numpy"], "unknown workload 'matmull'"),
    ("check workload", ["check", "--workload", "nope"], "unknown workload 'nope'"),
    ("unknown option", ["--bogus", "list"], "unrecognized arguments: --bogus"),
    ("no command", [], "the following arguments are required: COMMAND"),
    ("not an int", [*TIME, "--size", "ten"], "argument --size: invalid int value: 'ten'"),
    (
        "accuracy epochs",
        ["accuracy", "gcn", "--backend", "numpy", "--graph", "x", "--epochs", "0"],
        "need --epochs >= 1",
    ),
    ("dashboard port", ["dashboard", "--port", "0"], "--port must be 1-65535, got 0"),
    ("compare factor", ["compare", "HEAD", "HEAD", "--factor", "0.9"], "--factor must be > 1.0"),
]


@pytest.mark.parametrize(("argv", "message"), [c[1:] for c in BAD_CLI], ids=[c[0] for c in BAD_CLI])
def test_bad_cli_input_exits_2_with_one_line(capsys, argv: list[str], message: str) -> None:
    code, out, err = cli(capsys, *argv)
    assert code == 2
    line = one_line(err)
    assert line.startswith("tensorbench: error: ") and message in line, line
    assert out == ""


@pytest.mark.parametrize(
    ("size", "why"),
    [("10000000", "Unable to allocate"), ("100000000000", "array is too big")],
    ids=["MemoryError", "beyond numpy's address space"],
)
def test_impossible_size_is_a_skip_with_its_reason(capsys, size: str, why: str) -> None:
    code, out, err = cli(capsys, *TIME, "--size", size)
    assert code == 1 and "Traceback" not in err
    assert out.startswith(f"tensorbench: skip: matmul[numpy:cpu, float32, n={size}]: ")
    assert f"out of memory making inputs at size {size}: " in out and why in out


def test_threads_recorded_are_the_threads_used(capsys) -> None:
    code, out, _ = cli(capsys, "--threads", "1", *TIME, "--size", "16", "--json")
    assert code == 0 and json.loads(out)["threads"] == 1
    assert len(os.sched_getaffinity(0)) == 1  # really one core, not just a label


def test_a_wrong_result_is_a_failed_check_not_a_traceback(capsys, monkeypatch) -> None:
    from tensorbench.cases import ValidationError
    from tensorbench.cli import core

    def wrong(case, *timing_args):
        raise ValidationError("relative error 0.5 exceeds 0.0001")

    monkeypatch.setattr(core, "time_case", wrong)
    code, out, err = cli(capsys, *TIME, "--size", "8")
    assert code == 1
    assert one_line(err) == (
        "tensorbench: fail: matmul[numpy:cpu, float32, n=8]: relative error 0.5 exceeds 0.0001"
    )


# -- faults outside our control, bugs and Ctrl-C ---------------------------------------------

FAULTS: list[tuple[str, BaseException, int, str]] = [
    (
        "bug",
        RuntimeError("boom\nsecond line"),
        3,
        "tensorbench: internal error: RuntimeError: boom",
    ),
    (
        "external",
        ExternalError("asv is not installed"),
        3,
        "tensorbench: error: asv is not installed",
    ),
    ("memory", MemoryError("Unable to allocate 9 TiB"), 3, "tensorbench: error: out of memory"),
    (
        "os",
        PermissionError(13, "Permission denied", "/x/y"),
        3,
        "tensorbench: error: /x/y: Permission denied",
    ),
    ("ctrl-c", KeyboardInterrupt(), 130, "tensorbench: interrupted"),
    ("input", InputError("f.toml: line 3: bad"), 2, "tensorbench: error: f.toml: line 3: bad"),
]


@pytest.mark.parametrize(
    ("exc", "code", "line"), [f[1:] for f in FAULTS], ids=[f[0] for f in FAULTS]
)
def test_every_exception_is_one_line_and_an_exit_code(
    capsys, monkeypatch, exc: BaseException, code: int, line: str
) -> None:
    from tensorbench.cli import core

    def fails(args):
        raise exc

    monkeypatch.setattr(core, "cmd_list", fails)
    got, out, err = cli(capsys, "list")
    assert got == code
    assert one_line(err).startswith(line)
    if code == 3 and "internal" in line:
        assert "(rerun with --debug for the traceback)" in err


def test_debug_shows_the_traceback(capsys, monkeypatch) -> None:
    from tensorbench.cli import core

    def fails(args):
        raise RuntimeError("boom")

    monkeypatch.setattr(core, "cmd_list", fails)
    code, _, err = cli(capsys, "--debug", "list")
    assert code == 3 and "Traceback" in err and "RuntimeError: boom" in err
    assert err.rstrip().endswith("tensorbench: internal error: RuntimeError: boom")


# -- graph loaders: GraphFormatError naming file and line ------------------------------------


def _write(folder: Path, files: dict[str, bytes | None]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        if data is None:
            (folder / name).mkdir()
        else:
            (folder / name).write_bytes(data)
    return folder


CONTENT = b"a\t1\t0\tX\nb\t0\t1\tY\n"
BAD_GRAPHS = [
    ("linqs without .cites", {"g.content": CONTENT}, "", "g.cites: missing (a LINQS graph"),
    ("linqs .cites only", {"g.cites": b"a b\n"}, "g.cites", "g.content: missing"),
    ("linqs .cites a folder", {"g.content": CONTENT, "g.cites": None}, "", "g.cites: not a file"),
    (
        "linqs NaN feature",
        {"g.content": b"a\t1\t0\tX\nb\tnan\t1\tY\n", "g.cites": b"a\tb\n"},
        "",
        "g.content: line 2: a feature is NaN or infinite",
    ),
    (
        "two .content files",
        {"g.content": CONTENT, "h.content": CONTENT},
        "",
        "expected one *.content file, found g.content, h.content",
    ),
    (
        "linqs unknown paper",
        {"g.content": CONTENT, "g.cites": b"a\tb\nb\tzz\n"},
        "",
        "g.cites: line 2: paper id 'zz' not in g.content",
    ),
    ("empty edge list", {"e.txt": b""}, "e.txt", "e.txt: no edges found"),
    ("three fields", {"e.txt": b"1 2\n3 4 5\n"}, "e.txt", "e.txt: line 2: expected 2 node ids"),
    ("float id", {"e.txt": b"1 2\n3.5 4\n"}, "e.txt", "line 2: node id '3.5' is not an integer"),
    ("corrupt gzip", {"e.txt.gz": b"not gzip"}, "e.txt.gz", "line 1: corrupt gzip"),
    (
        "mtx index outside",
        {"m.mtx": b"%%MatrixMarket matrix coordinate real general\n3 3 1\n5 1 1.0\n"},
        "m.mtx",
        "m.mtx: line 3: index (5, 1) outside the 3 x 3 matrix",
    ),
    ("unknown format", {"g.csv": b"1,2\n"}, "g.csv", "g.csv: unknown graph format"),
]


@pytest.mark.parametrize(
    ("files", "target", "message"), [b[1:] for b in BAD_GRAPHS], ids=[b[0] for b in BAD_GRAPHS]
)
def test_malformed_graphs_name_file_and_line(
    tmp_path: Path, files: dict, target: str, message: str
) -> None:
    folder = _write(tmp_path / "g", files)
    with pytest.raises(InputError) as info:
        load_graph(folder / target if target else folder)
    assert message in str(info.value)


def test_linqs_without_cites_through_the_cli(tmp_path: Path, capsys) -> None:
    folder = _write(tmp_path / "cora", {"cora.content": CONTENT})
    for argv in (
        ["time", "pagerank", "--backend", "numpy", "--graph", str(folder)],
        ["accuracy", "gcn", "--backend", "numpy", "--graph", str(folder), "--epochs", "1"],
    ):
        code, _, err = cli(capsys, *argv)
        assert code == 2
        assert one_line(err) == (
            f"tensorbench: error: {folder / 'cora.cites'}: missing (a LINQS graph needs both "
            "cora.content and cora.cites; found only cora.content)"
        )


def test_linqs_label_typo_warns_naming_label_and_lines(tmp_path: Path) -> None:
    rows = [f"p{i}\t{i % 2}\t1\t{'Theory' if i % 2 else 'Neural_Networks'}" for i in range(60)]
    rows[41] = "p41\t1\t1\tNeural_Netwroks"  # line 42
    folder = _write(
        tmp_path / "typo", {"t.content": "\n".join(rows).encode(), "t.cites": b"p0\tp1\n"}
    )
    with pytest.warns(GraphWarning) as record:
        graph = load_graph(folder)
    assert len(record) == 1
    message = str(record[0].message)
    assert "label 'Neural_Netwroks' appears on only 1 of 60 rows (line 42)" in message
    assert "did you mean 'Neural_Networks'?" in message
    assert len(graph.classes) == 3  # still loaded as it is: the warning says what happens


def test_label_typo_warning_is_one_line_on_the_cli(tmp_path: Path, capsys) -> None:
    rows = [f"p{i}\t{i % 2}\t1\t{'A' if i % 2 else 'B'}" for i in range(50)] + ["p50\t1\t0\tBB"]
    folder = _write(
        tmp_path / "typo", {"t.content": "\n".join(rows).encode(), "t.cites": b"p0\tp1\n"}
    )
    code, _, err = cli(
        capsys, "time", "pagerank", "--backend", "numpy", "--graph", str(folder),
        "--target-seconds", "0.01",
    )  # fmt: skip
    assert code == 0
    assert one_line(err).startswith(f"tensorbench: warning: {folder / 't.content'}: label 'BB'")


def test_balanced_small_graphs_do_not_warn(tmp_path: Path) -> None:
    folder = _write(tmp_path / "tiny", {"t.content": CONTENT, "t.cites": b"a\tb\n"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_graph(folder).n_nodes == 2


def test_cora_has_no_suspicious_labels(shared_data: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(load_graph(shared_data / "graphs" / "cora").classes) == 7


# -- suites ----------------------------------------------------------------------------------

BAD_SUITES = [
    ("not toml", b"name = \n", "not valid TOML: Invalid value (at line 1, column 8)"),
    ("not utf-8", b'name = "x"\n\ndescription = "\xff"\n', "line 3: not UTF-8 text"),
    ("unknown key", b"nam = 'x'\n", "unknown key 'nam' (valid: description, name, workloads)"),
    (
        "threads on a workload without them",
        b"[workloads.matmul]\nsizes = [128]\nthreads = [1]\n",
        "workloads.matmul.threads: matmul has no threads parameter (thread scaling: "
        "matmul_threads, conv2d_threads)",
    ),
    (
        "size not in the grid",
        b"[workloads.matmul]\nsizes = [77]\n",
        "workloads.matmul.sizes: 77 is not in the grid (valid: 64, 128",
    ),
    (
        "description not a string",
        b"description = [1]\n[workloads.matmul]\nsizes = [128]\n",
        "description must be a string",
    ),
]


@pytest.mark.parametrize(
    ("raw", "message"), [s[1:] for s in BAD_SUITES], ids=[s[0] for s in BAD_SUITES]
)
def test_bad_suites_name_file_key_and_valid_choices(tmp_path: Path, raw: bytes, message: str):
    path = tmp_path / "bad.toml"
    path.write_bytes(raw)
    with pytest.raises(SuiteError) as info:
        load_suite(path)
    assert str(info.value).startswith(f"{path}: ") and message in str(info.value)


def test_unknown_suite_lists_the_project_suites(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text("[workloads.matmul]\nsizes = [128]\n")
    with pytest.raises(SuiteError, match=r"no suite 'quick' \(valid: mine, or a .toml path\)"):
        load_suite("quick", tmp_path)
    assert load_suite("mine", tmp_path).name == "mine"


# -- run: the machine file, the project, the work log ----------------------------------------

INFO = {
    "machine": {
        "cpu": "AMD EPYC 7B13",
        "cores": 2,
        "logical_cpus": 2,
        "arch": "x86_64",
        "os": "Linux",
        "memory_gib": 23.5,
        "gpus": [],
    }
}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    monkeypatch.setattr(machine.Path, "home", lambda: folder)
    return folder


BAD_MACHINE_FILES = [
    ("truncated", b'{"laptop": {"machine": "laptop"', "line 1 column 32: not valid JSON"),
    ("a list", b"[1, 2]", "expected a JSON object of machines, found a list"),
    ("not utf-8", b'{"caf\xe9": {}}', "not UTF-8 text (byte 5)"),
]


@pytest.mark.parametrize(
    ("raw", "message"), [m[1:] for m in BAD_MACHINE_FILES], ids=[m[0] for m in BAD_MACHINE_FILES]
)
def test_malformed_machine_file_is_refused_and_kept(home: Path, raw: bytes, message: str):
    path = home / ".asv-machine.json"
    path.write_bytes(raw)
    with pytest.raises(InputError) as info:
        machine.ensure_machine(INFO)
    assert str(info.value).startswith(f"{path}: ") and message in str(info.value)
    assert "it is left as it is" in str(info.value)
    assert path.read_bytes() == raw  # never replaced


def test_machine_file_keeps_other_machines(home: Path) -> None:
    path = home / ".asv-machine.json"
    other = {"gpu-box": {"machine": "gpu-box", "cpu": "x"}, "version": 1}
    path.write_text(json.dumps(other))
    name = machine.ensure_machine(INFO)
    data = json.loads(path.read_text())
    assert data["gpu-box"] == other["gpu-box"] and data[name]["machine"] == name
    assert [p.name for p in home.iterdir()] == [".asv-machine.json"]  # no temporary left


@pytest.mark.parametrize("name", ["../escape", ".hidden", "a/b", "", "x" * 101])
def test_machine_names_that_are_not_a_folder_name_are_refused(name: str) -> None:
    with pytest.raises(InputError, match="names a folder under results/"):
        machine.check_machine_name(name)


def _project(root: Path) -> Path:
    """A tensorbench-shaped checkout: asv.conf.json, suites/quick.toml, a git commit."""
    root.mkdir(parents=True)
    shutil.copy(REPO / "asv.conf.json", root / "asv.conf.json")
    (root / "suites").mkdir()
    (root / "suites" / "quick.toml").write_text("[workloads.matmul]\nsizes = [128]\n")
    (root / "tensorbench").mkdir()  # its own package: its benchmarks must time that one
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "x"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@e", *args], cwd=root, check=True
        )
    return root


@pytest.fixture
def clone(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Another checkout, with run's slow parts (machine facts, the probe) stubbed."""
    from tensorbench import sysinfo
    from tensorbench.asv import run as asvrun

    monkeypatch.setattr(sysinfo, "info", lambda: INFO)
    monkeypatch.setattr(asvrun, "probe_env", lambda *a, **k: {})
    monkeypatch.setattr(tempfile, "tempdir", str(_mkdir(tmp_path / "tmp")))
    return _project(tmp_path / "clone")


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


RUN = ("run", "--env", "main", "--python", sys.executable)


def _stub_asv(monkeypatch: pytest.MonkeyPatch, effect: Callable[..., int]) -> list:
    from tensorbench.asv import run as asvrun

    calls: list = []

    def fake(args, cwd, env=None, quiet=False):
        calls.append((Path(cwd), env))
        return effect(args, cwd, env)

    monkeypatch.setattr(asvrun, "run_asv", fake)
    return calls


def test_run_from_another_clone_writes_there(clone: Path, capsys, monkeypatch) -> None:
    def asv_writes_a_result(args, cwd, env):
        assert Path(env["TENSORBENCH_WORK_LOG"]).exists()  # the log is there while asv runs
        return 0  # produced nothing: the run reports it, exit 1

    calls = _stub_asv(monkeypatch, asv_writes_a_result)
    monkeypatch.chdir(_mkdir(clone / "sub"))
    code, out, err = cli(capsys, *RUN)
    assert f"tensorbench: project {clone} (from the current directory)" in err
    assert calls and calls[0][0] == clone
    assert calls[0][1]["PYTHONPATH"].split(os.pathsep)[0] == str(clone)
    # asv's benchmark.py drops PYTHONPATH's entries from sys.path unless ASV_PYTHONPATH repeats
    # them: without it the clone's benchmarks would import the installed package instead.
    assert calls[0][1]["ASV_PYTHONPATH"] == calls[0][1]["PYTHONPATH"]
    assert code == 1 and "asv produced no results in: main" in out
    assert list(Path(tempfile.tempdir).iterdir()) == []  # the work log is gone


def test_run_repo_option_wins_and_is_checked(clone: Path, capsys, monkeypatch, tmp_path) -> None:
    calls = _stub_asv(monkeypatch, lambda *a: 0)
    monkeypatch.chdir(tmp_path)
    cli(capsys, *RUN, "--repo", str(clone))
    assert calls[0][0] == clone
    code, _, err = cli(capsys, *RUN, "--repo", str(tmp_path))
    assert code == 2 and one_line(err) == (
        f"tensorbench: error: --repo {tmp_path}: no asv.conf.json in {tmp_path}"
    )


@pytest.mark.parametrize(
    ("effect", "code", "line"),
    [
        (KeyboardInterrupt, 130, "tensorbench: interrupted"),
        (ExternalError("asv is not installed for python"), 3, "tensorbench: error: asv is not"),
    ],
    ids=["ctrl-c", "asv missing"],
)
def test_interrupted_or_failed_run_leaves_no_work_log(
    clone: Path, capsys, monkeypatch, effect, code: int, line: str
) -> None:
    def fail(*args):
        raise effect

    _stub_asv(monkeypatch, fail)
    got, _, err = cli(capsys, *RUN, "--repo", str(clone))
    assert got == code and one_line(err).startswith(line)
    assert list(Path(tempfile.tempdir).iterdir()) == []


def test_asv_not_installed_is_exit_3(monkeypatch) -> None:
    import importlib.util

    from tensorbench.asv import process

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(process.AsvError, match="asv is not installed for"):
        process.run_asv(["run"])


def test_run_refuses_a_malformed_machine_file_before_running(clone, home, capsys, monkeypatch):
    calls = _stub_asv(monkeypatch, lambda *a: 0)
    raw = b'{"gpu-box": {"machine": "gpu-box"},'
    (home / ".asv-machine.json").write_bytes(raw)
    code, _, err = cli(capsys, *RUN, "--repo", str(clone))
    assert code == 2 and "not valid JSON" in one_line(err) and not calls
    assert (home / ".asv-machine.json").read_bytes() == raw


def test_run_refuses_an_unreadable_earlier_result(clone, home, capsys, monkeypatch) -> None:
    calls = _stub_asv(monkeypatch, lambda *a: 0)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=clone, capture_output=True, text=True
    ).stdout.strip()
    folder = _mkdir(clone / "results") / "amd-epyc-7b13-2c"
    folder.mkdir()
    kept = folder / f"{commit[:8]}-existing-main.json"
    kept.write_bytes(b'{"results": {"bench.x": [')
    code, _, err = cli(capsys, *RUN, "--repo", str(clone))
    assert code == 2 and "earlier results of this commit cannot be read" in one_line(err)
    assert kept.read_bytes() == b'{"results": {"bench.x": [' and not calls


BAD_RUN = [
    ("graph dir", ["--graph-dir", "/no/such/dir"], "--graph-dir /no/such/dir: no such folder"),
    ("python", ["--python", "/no/python"], "--python /no/python: no such interpreter"),
    ("commits", ["--commits", "HEAD~3..HEAD"], "--commits applies to --managed or --matrix"),
    ("managed + python", ["--managed"], "apply to existing environments, not --managed"),
    ("machine", ["--machine", "../x"], "--machine '../x': use 1-100 letters"),
    ("suite", ["--suite", "nope"], "no suite 'nope' (valid: quick, or a .toml path)"),
    ("matrix", ["--matrix", "numpy", "--env", "all"], "--matrix 'numpy': expected NAME=V1,V2"),
]


@pytest.mark.parametrize(
    ("extra", "message"), [b[1:] for b in BAD_RUN], ids=[b[0] for b in BAD_RUN]
)
def test_bad_run_arguments_exit_2_before_anything_runs(
    clone: Path, capsys, monkeypatch, extra: list[str], message: str
) -> None:
    calls = _stub_asv(monkeypatch, lambda *a: 0)
    argv = ["run", "--repo", str(clone), *extra]
    if "--env" not in extra:
        argv += ["--env", "main"]
    if "--python" not in extra and "--managed" not in extra and "--matrix" not in extra:
        argv += ["--python", sys.executable]
    code, _, err = cli(capsys, *argv)
    assert code == 2 and message in one_line(err) and not calls


def test_project_is_found_by_walking_up(tmp_path: Path, monkeypatch) -> None:
    root = _mkdir(tmp_path / "p")
    (root / "asv.conf.json").write_text("{}")
    deep = root / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert conventions.resolve_project() == (root, "from the current directory")
    monkeypatch.chdir(tmp_path)
    assert conventions.resolve_project()[1] == "the installed package's checkout"


# -- chart -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tensorbench.testing import write_synthetic_results

    return write_synthetic_results(tmp_path_factory.mktemp("r") / "results", commits=4)


BAD_CHARTS = [
    ("size not measured", ["compare", "--workload", "matmul", "--size", "77"], "--size 77: no "
     "matmul results at that size (sizes: 64, 256, 1024)"),
    ("heatmap --size", ["heatmap", "--size", "64"], "chart heatmap takes no --size (its filters:"),
    ("scaling --benchmark", ["scaling", "--workload", "matmul", "--benchmark", "x"],
     "chart scaling takes no --benchmark"),
    ("history size", ["history", "--workload", "matmul", "--backend", "numpy:cpu", "--size", "5"],
     "--size 5: no matmul results at that size"),
    ("device not measured", ["compare", "--workload", "matmul", "--machine", "laptop", "--device",
     "cuda"], "unknown device 'cuda'"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "message"), [c[1:] for c in BAD_CHARTS], ids=[c[0] for c in BAD_CHARTS]
)
def test_bad_chart_requests_write_nothing(
    results: Path, tmp_path: Path, capsys, argv: list[str], message: str
) -> None:
    out = tmp_path / "c.svg"
    code, stdout, err = cli(capsys, "chart", *argv, "--results", str(results), "--out", str(out))
    assert code == 2 and message in one_line(err) and not out.exists()


def test_chart_out_naming_a_folder(results: Path, tmp_path: Path, capsys) -> None:
    folder = _mkdir(tmp_path / "figure.svg")
    (folder / "keep.txt").write_text("mine")
    code, _, err = cli(capsys, "chart", "heatmap", "--results", str(results), "--out", str(folder))
    assert code == 2 and one_line(err) == (
        f"tensorbench: error: --out {folder}: is a folder; name a file (.svg, .png or .pdf)"
    )
    assert (folder / "keep.txt").read_text() == "mine"


def test_chart_that_would_be_empty_is_refused(results: Path, tmp_path: Path, capsys, monkeypatch):
    from tensorbench import charts

    monkeypatch.setattr(charts, "heatmap_chart", lambda *a, **k: charts.empty_chart("no results"))
    out = tmp_path / "h.svg"
    code, _, err = cli(capsys, "chart", "heatmap", "--results", str(results), "--out", str(out))
    assert code == 2 and one_line(err) == (
        "tensorbench: error: chart heatmap: no results; nothing written"
    )
    assert not out.exists()


# -- the gate and acknowledgements (done in the detector work; kept here as a sweep) ---------


def test_gate_fails_on_no_data(tmp_path: Path, capsys) -> None:
    empty = _mkdir(tmp_path / "empty")
    code, out, err = cli(capsys, "regressions", "--results", str(empty), "--json")
    assert code == 2 and out == "" and "not an asv results database" in err


def test_gate_fails_on_a_folder_that_is_not_a_database(capsys) -> None:
    code, out, err = cli(capsys, "regressions", "--results", str(REPO / "suites"), "--json")
    assert code == 2 and out == "" and "not an asv results database" in err


def test_non_utf8_acknowledgements_exit_2(results: Path, tmp_path: Path, capsys) -> None:
    db = tmp_path / "db"
    shutil.copytree(results, db)
    raw = b'[[acknowledged]]\nbenchmark = "x"\ncommit = "ab"\nreason = "caf\xe9"\n'
    (db / "acknowledged.toml").write_bytes(raw)
    code, _, err = cli(capsys, "regressions", "--results", str(db))
    assert code == 2 and "acknowledged.toml" in err and "Traceback" not in err
    assert (db / "acknowledged.toml").read_bytes() == raw


# -- as a user sees it: a real process, nothing on the terminal but one line -----------------


def _default_sigint() -> None:
    # A shell without job control starts background jobs (`bash .ci/run &`) with SIGINT
    # ignored, children inherit that, and Python then installs no KeyboardInterrupt handler:
    # the Ctrl-C test would time a command that cannot be interrupted and read exit 0.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def tensorbench(*argv: str, **kwargs) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(
        [sys.executable, "-m", "tensorbench.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=_default_sigint,
        **kwargs,
    )


@pytest.mark.parametrize(
    ("argv", "code", "line"),
    [
        (
            ["time", "matmul", "--backend", "numpy", "--size", "0"],
            2,
            "tensorbench: error: --size 0",
        ),
        (["--threads", "-1", "list"], 2, f"tensorbench: error: --threads -1: must be 1..{CORES}"),
        (["chart", "heatmap", "--out", "/"], 2, "tensorbench: error: unsupported output ''"),
    ],
    ids=["size 0", "threads -1", "chart --out /"],
)
def test_a_real_process_prints_one_line(argv: list[str], code: int, line: str) -> None:
    proc = tensorbench(*argv)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == code and one_line(err).startswith(line) and out == ""


def test_ctrl_c_in_a_real_process_is_one_line_and_130(tmp_path: Path) -> None:
    # 3 processes x 40 samples of a 2048 float64 matmul on one core (~36 s): the signal lands
    # mid-command, after the imports
    proc = tensorbench(
        "--threads", "1", "time", "matmul", "--backend", "numpy", "--size", "2048",
        "--dtype", "float64", "--target-seconds", "60", cwd=tmp_path,
    )  # fmt: skip
    time.sleep(6)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and one_line(err) == "tensorbench: interrupted"
    assert list(tmp_path.iterdir()) == []


def test_a_closed_pipe_is_not_a_traceback() -> None:
    proc = tensorbench("--help")
    proc.stdout.close()  # the reader went away before reading anything
    err = proc.stderr.read()
    proc.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipeError" not in err


# -- report, results cache, charts: the second sweep -----------------------------------------
# Each case asserts the exit code, the single stderr line and the files left behind.


def _files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes): what a command left behind."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".tensorbench-" not in p.name  # the reader's caches beside results
    }


def _temp_folders(*folders: Path) -> list[Path]:
    return [p for f in folders for p in f.rglob(".tensorbench-report-*")]


def _copy(results: Path, dest: Path) -> Path:
    shutil.copytree(results, dest)
    return dest


@pytest.mark.parametrize("pdf", [[], ["--no-pdf"]], ids=["with pdf", "no pdf"])
@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("", "--out '': empty; give a path such as out/report"),
        (".", "--out '.': names a folder, not a file; give a path such as out/report"),
        ("/", "--out '/': names a folder, not a file"),
        ("sub", "--out 'sub': names a folder, not a file"),
        ("sub/", "--out 'sub/': names a folder, not a file"),
    ],
)
def test_report_out_that_names_no_file(
    results: Path, tmp_path: Path, capsys, monkeypatch, out: str, message: str, pdf: list[str]
) -> None:
    monkeypatch.chdir(_mkdir(tmp_path / "cwd"))
    (Path("sub")).mkdir()
    code, stdout, err = cli(capsys, "report", "--results", str(results), "--out", out, *pdf)
    assert code == 2 and stdout == ""
    assert one_line(err).startswith(f"tensorbench: error: {message}")
    assert _files(tmp_path / "cwd") == {}  # nothing written, not even into sub/


@pytest.fixture(scope="module")
def committed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project's results/ (its cache is written beside the copy)."""
    return _copy(REPO / "results", tmp_path_factory.mktemp("committed") / "results")


@pytest.mark.parametrize(
    "options",
    [
        [],
        ["--workload", "matmul"],
        ["--backend", "numpy"],
        ["--backend", "torch:cpu", "--device", "cpu"],
        ["--dtype", "float32"],
        ["--workload", "matmul", "--size", "512"],
        ["--machine", "intel-xeon-2c", "--theme", "screen"],
    ],
    ids=lambda o: " ".join(o) or "no options",
)
def test_chart_roofline_with_any_options(
    committed: Path, tmp_path: Path, capsys, options: list[str]
) -> None:
    out = tmp_path / "roofline.svg"
    code, stdout, err = cli(
        capsys, "chart", "roofline", *options, "--results", str(committed), "--out", str(out)
    )
    assert (code, err) == (0, "") and stdout == f"wrote {out}\n"
    assert out.read_text().lstrip().startswith("<svg") and "NaN" not in out.read_text()


INVALID_VALUES = [math.nan, math.inf, -1.0, 0.0, 1e300, -math.inf, 1e-300]


def _inject(db: Path, values: list[float], newest: int = 1) -> list[Path]:
    """Put ``values`` (in turn) into the first measured value of every time_ benchmark of the
    ``newest`` commits' result files; returns the files edited."""
    files = sorted(db.glob("*/*-*.json"), key=lambda p: json.loads(p.read_text())["date"])
    edited = files[-newest:]
    i = 0
    for path in edited:
        d = json.loads(path.read_text())
        for name, row in d["results"].items():
            if ".time_" in name:
                j = next(k for k, v in enumerate(row[0]) if v is not None and v == v)
                row[0][j] = values[i % len(values)]
                i += 1
        path.write_text(json.dumps(d))  # NaN and Infinity, as Python's json writes them
    return edited


def test_invalid_values_are_left_out_the_same_way_in_every_command(
    results: Path, tmp_path: Path, capsys
) -> None:
    db = _copy(results, tmp_path / "db")
    # two time benchmarks in the newest file: -1 and 0 there; NaN reads as skipped (asv's way)
    (edited,) = _inject(db, [-1.0, 0.0])
    line = (
        "tensorbench: warning: 2 invalid value(s) left out (infinite, a time or memory of zero "
        f"or less, or no plausible time): {edited} (2)"
    )
    out = tmp_path / "out"
    code, _, err = cli(capsys, "report", "--results", str(db), "--out", str(out), "--no-pdf")
    assert code == 0 and err.splitlines() == [line]
    page = (tmp_path / "out.html").read_text(encoding="utf-8")
    assert "nan×" not in page and "inf×" not in page and "-1,000" not in page
    assert "Not a measurement: 2 invalid value(s) left out" in page
    for argv in (
        ["chart", "heatmap", "--out", str(tmp_path / "h.svg")],
        ["chart", "compare", "--workload", "matmul", "--out", str(tmp_path / "c.svg")],
        ["regressions", "--json"],
    ):
        code, _, err = cli(capsys, *argv, "--results", str(db))
        assert code in (0, 1) and err.splitlines() == [line], argv
    assert "NaN" not in (tmp_path / "h.svg").read_text()


@pytest.mark.filterwarnings("ignore::UserWarning")  # the reader's warning, raised in the app
def test_the_dashboard_says_the_same_sentence(
    results: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    from tensorbench.analysis.results import invalid_message, load_results

    db = _copy(results, tmp_path / "db")
    _inject(db, [-1.0, math.inf])
    with pytest.warns(UserWarning):
        sentence = invalid_message(load_results(db).invalid)
    monkeypatch.setenv("TENSORBENCH_RESULTS", str(db))
    at = AppTest.from_file(str(REPO / "dashboard" / "streamlit_app.py"), default_timeout=120)
    at.run()
    assert not at.exception
    assert [w.value for w in at.warning] == [sentence]
    assert len(at.get("vega_lite_chart")) >= 1  # the rest is still shown


def test_every_kind_of_invalid_value_is_left_out(results: Path, tmp_path: Path) -> None:
    from tensorbench.analysis.results import InvalidValuesWarning, load_results

    db = _copy(results, tmp_path / "db")
    _inject(db, INVALID_VALUES, newest=4)
    with pytest.warns(InvalidValuesWarning, match=r"^\d+ invalid value\(s\) left out"):
        loaded = load_results(db)
    ok = loaded.table[loaded.table["status"] == "ok"]
    assert ok["value"].between(1e-12, 1e7).all()
    # NaN is asv's "skipped"; every other value is counted, per file
    assert sum(i.values for i in loaded.invalid) == 4 * 2 - sum(
        1 for k in range(8) if math.isnan(INVALID_VALUES[k % len(INVALID_VALUES)])
    )
    with pytest.warns(InvalidValuesWarning):
        cached = load_results(db)  # the cache keeps the counts: the same warning, warm
    assert cached.invalid == loaded.invalid


def test_heatmap_on_a_device_without_results_writes_nothing(tmp_path: Path, capsys) -> None:
    from tensorbench.testing import write_synthetic_results

    db = write_synthetic_results(
        tmp_path / "db", commits=2, backends=("numpy:cpu", "torch:cpu", "torch:cuda")
    )  # torch:cuda is skipped on this (GPU-less) machine: the device exists, its results do not
    out = tmp_path / "h.svg"
    code, stdout, err = cli(
        capsys, "chart", "heatmap", "--device", "cuda", "--results", str(db), "--out", str(out)
    )
    assert code == 2 and stdout == "" and not out.exists()
    assert one_line(err) == (
        "tensorbench: error: chart heatmap: no results on cuda to compare with numpy:cpu; "
        "nothing written"
    )


def test_a_truncated_result_file_is_named_on_stderr(results: Path, tmp_path: Path, capsys):
    db = _copy(results, tmp_path / "db")
    oldest = sorted(db.glob("*/*-*.json"), key=lambda p: json.loads(p.read_text())["date"])[0]
    oldest.write_bytes(oldest.read_bytes()[:300])
    out = tmp_path / "r"
    code, _, err = cli(capsys, "report", "--results", str(db), "--out", str(out), "--no-pdf")
    assert code == 0 and (tmp_path / "r.html").is_file()
    warning = one_line(err)
    assert warning.startswith(f"tensorbench: warning: skipped {oldest}: invalid JSON (truncated")
    for argv in (["chart", "heatmap", "--out", str(tmp_path / "h.svg")], ["regressions"]):
        code, _, err = cli(capsys, *argv, "--results", str(db))
        assert code in (0, 1) and one_line(err) == warning, argv


def _slides(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.suffix in (".svg", ".png")}


def test_slides_rerun_removes_only_the_stale_slides_it_wrote(
    results: Path, tmp_path: Path, capsys
) -> None:
    slides = tmp_path / "slides"
    base = ["report", "--results", str(results), "--out", str(tmp_path / "r"), "--no-pdf"]
    assert cli(capsys, *base, "--slides", str(slides))[0] == 0
    first = _slides(slides)
    (slides / "notes.txt").write_text("mine")
    (slides / "99-my-own-chart.svg").write_text("<svg/>")  # never listed by a report's index
    code, stdout, err = cli(capsys, *base, "--slides", str(slides), "--workloads", "matmul")
    assert code == 0 and err == ""
    index = (slides / "index.html").read_text(encoding="utf-8")
    listed = set(re.findall(r'href="(\d\d-[^"]+\.(?:svg|png))"', index))
    assert _slides(slides) == listed | {"99-my-own-chart.svg"}
    assert len(listed) < len(first) and (slides / "notes.txt").read_text() == "mine"
    assert f"wrote {len(listed) // 2} slides" in stdout
    assert _temp_folders(tmp_path) == []


@pytest.fixture
def previous(results: Path, tmp_path: Path, capsys) -> dict[str, bytes]:
    """An earlier complete output set (r.html, r.pdf, slides/) that a failed run must keep."""
    base = ["report", "--results", str(results), "--out", str(tmp_path / "r"), "--no-pdf"]
    assert cli(capsys, *base, "--slides", str(tmp_path / "slides"), "--workloads", "conv2d")[0] == 0
    (tmp_path / "r.pdf").write_bytes(b"%PDF-1.4 the earlier print")
    (tmp_path / "afile").write_text("not a folder")
    return _files(tmp_path)


def test_slides_into_an_unwritable_place_write_nothing(
    results: Path, tmp_path: Path, capsys, previous: dict[str, bytes]
) -> None:
    bad = tmp_path / "afile" / "slides"
    code, stdout, err = cli(
        capsys, "report", "--results", str(results), "--out", str(tmp_path / "r"),
        "--no-pdf", "--slides", str(bad),
    )  # fmt: skip
    assert code == 2 and stdout == ""
    assert (
        one_line(err) == f"tensorbench: error: --slides {bad}: cannot write there (Not a directory)"
    )
    assert _files(tmp_path) == previous and _temp_folders(tmp_path) == []


@pytest.mark.parametrize(
    ("fault", "code", "line"),
    [
        (
            ExternalError("Chromium crashed while printing"),
            3,
            "tensorbench: error: Chromium crashed",
        ),
        (KeyboardInterrupt(), 130, "tensorbench: interrupted"),
    ],
    ids=["pdf fails", "ctrl-c"],
)
def test_a_failed_report_keeps_the_previous_output_set(
    results: Path, tmp_path: Path, capsys, monkeypatch, previous, fault, code: int, line: str
) -> None:
    import tensorbench.report as report

    def printing(html_path, pdf_path, **kwargs):
        Path(pdf_path).write_bytes(b"%PDF half")  # a part written before the fault
        raise fault

    monkeypatch.setattr(report, "write_pdf", printing)
    got, stdout, err = cli(
        capsys, "report", "--results", str(results), "--out", str(tmp_path / "r"),
        "--slides", str(tmp_path / "slides"),
    )  # fmt: skip
    assert got == code and stdout == "" and one_line(err).startswith(line)
    assert _files(tmp_path) == previous and _temp_folders(tmp_path) == []


def test_chart_history_size_message_without_a_workload(results: Path, tmp_path: Path, capsys):
    out = tmp_path / "h.svg"
    code, _, err = cli(
        capsys, "chart", "history", "--size", "0", "--results", str(results), "--out", str(out)
    )
    assert code == 2 and not out.exists()
    assert one_line(err) == (
        "tensorbench: error: --size 0: no results at that size (sizes: 64, 256, 1024)"
    )


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = _mkdir(tmp_path / "tmp")
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_compare_with_a_missing_interpreter(private_tmp: Path, capsys) -> None:
    code, stdout, err = cli(
        capsys, "compare", "HEAD~1", "HEAD", "--python", "/nonexistent/python", "--repo", str(REPO)
    )
    assert code == 2 and stdout == ""
    assert one_line(err) == "tensorbench: error: --python /nonexistent/python: no such interpreter"
    assert list(private_tmp.iterdir()) == []


@pytest.mark.parametrize(
    ("fault", "code", "line"),
    [
        ("asv", 3, "tensorbench: error: asv run failed for 0123abcd"),
        (KeyboardInterrupt(), 130, "tensorbench: interrupted"),
        (RuntimeError("boom"), 3, "tensorbench: internal error: RuntimeError: boom"),
    ],
    ids=["asv fails", "ctrl-c", "bug"],
)
def test_compare_leaves_no_temporary_folder(
    private_tmp: Path, capsys, monkeypatch, fault, code: int, line: str
) -> None:
    from tensorbench.asv import compare as asvcompare
    from tensorbench.asv.process import AsvError

    def fails(base, head, factor, config, python, bench, suite, keep):
        (Path(keep) / "tree-0123abcd").mkdir()  # a worktree and results, half made
        (Path(keep) / "results").mkdir()
        raise AsvError("asv run failed for 0123abcd") if fault == "asv" else fault

    monkeypatch.setattr(asvcompare, "compare", fails)
    got, _, err = cli(capsys, "compare", "HEAD~1", "HEAD", "--repo", str(REPO))
    assert got == code and one_line(err).startswith(line)
    assert list(private_tmp.iterdir()) == []


# -- random databases full of impossible values ----------------------------------------------

IMPOSSIBLE = [
    math.nan, math.inf, -math.inf, 0.0, -0.0, -1.0, -1e-9, 1e300, 1e308, 1e-300, 5e-324, 1e9,
]  # fmt: skip
# what a drawn chart or a table cell must never show
NON_FINITE = re.compile(r"\bNaN\b|\bInfinity\b|\bnan\b|\binf\b|nan×|inf×")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tensorbench.testing import write_synthetic_results

    return write_synthetic_results(
        tmp_path_factory.mktemp("small") / "results", commits=6, sizes=(64, 256)
    )


def _slots(db: Path) -> list[tuple[Path, str, int, int]]:
    """Every (file, benchmark, column, position) that holds a number: values and intervals."""
    out = []
    for path in sorted(db.glob("*/*-*.json")):
        d = json.loads(path.read_text())
        for name, row in d["results"].items():
            for col in (0, 5, 6, 7, 8):  # result, stats_ci_99_a/b, stats_q_25/75
                out += [(path, name, col, k) for k in range(len(row[col]))]
    return out


def _run(*argv: str) -> tuple[int, str, str]:
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.mark.slow
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    edits=st.lists(
        st.tuples(st.integers(min_value=0), st.sampled_from(IMPOSSIBLE)), min_size=1, max_size=40
    )
)
def test_random_impossible_values_never_raise_nor_draw(
    small: Path, tmp_path_factory: pytest.TempPathFactory, edits: list[tuple[int, float]]
) -> None:
    db = _copy(small, tmp_path_factory.mktemp("random") / "results")
    slots = _slots(db)
    changes: dict[Path, list[tuple[str, int, int, float]]] = {}
    for index, value in edits:
        path, name, col, k = slots[index % len(slots)]
        changes.setdefault(path, []).append((name, col, k, value))
    for path, items in changes.items():
        d = json.loads(path.read_text())
        for name, col, k, value in items:
            d["results"][name][col][k] = value
        path.write_text(json.dumps(d))
    out = db.parent / "report"
    code, _, err = _run("report", "--results", str(db), "--out", str(out), "--no-pdf")
    assert code == 0 and "Traceback" not in err and "error" not in err, err
    page = (db.parent / "report.html").read_text(encoding="utf-8")
    # the methods section says that a NaN output fails validation: prose, not a value
    page = page.replace("A missing, empty, NaN or wrongly shaped output fails", "")
    assert NON_FINITE.search(page) is None, NON_FINITE.search(page)
    for argv in (
        ["compare", "--workload", "matmul"],
        ["scaling", "--workload", "conv2d"],
        ["history", "--workload", "matmul", "--backend", "numpy:cpu", "--size", "64"],
        ["heatmap"],
        ["roofline"],
    ):
        svg = db.parent / "chart.svg"
        svg.unlink(missing_ok=True)
        code, _, err = _run("chart", *argv, "--results", str(db), "--out", str(svg))
        assert code in (0, 2) and "internal error" not in err and "Traceback" not in err, err
        if code == 0:
            assert NON_FINITE.search(svg.read_text()) is None, argv
        else:  # nothing to draw once the impossible values are out: said, nothing written
            assert "nothing written" in err or "no results" in err, err
            assert not svg.exists()
    code, stdout, err = _run("regressions", "--results", str(db), "--json")
    assert code in (0, 1) and "Traceback" not in err and "error:" not in err, err
    assert isinstance(json.loads(stdout), list)
