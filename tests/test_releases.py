"""Framework releases as an axis: version order, release sets, and release-to-release changes
found in a results database written as asv writes one."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tensorbench.analysis.asvfile import write_result_file
from tensorbench.analysis.releases import (
    ReleaseSet,
    env_versions,
    is_release_env,
    noise_floor,
    parse_releases,
    release_axis,
    release_changes,
    sort_versions,
)
from tensorbench.analysis.results import load_results
from tensorbench.asv.releases import build_release_env, first_error_line, requirements
from tensorbench.errors import InputError

BENCH = "bench_array.Conv2d.time_conv2d"
PARAMS = [["'numpy:cpu'", "'torch:cpu'"], ["32"], ["'float32'"]]
COMMIT = "c" * 40


def test_only_release_environments_make_the_axis() -> None:
    """The project's .venv and .venv-mxnet differ in NumPy but are no NumPy release step."""
    assert is_release_env("existing-torch-2.12.0", "torch")
    assert is_release_env("torch-2.13.0+cpu", "torch")
    assert not is_release_env("existing-main", "numpy")
    assert not is_release_env("existing-torch-2.12.0", "numpy")
    assert not is_release_env("virtualenv-py3.11-numpy1.26.4", "numpy")


def test_versions_sort_as_releases_not_as_text() -> None:
    got = sort_versions(["2.10", "2.9", "2.10.0rc1", "2.1", "2.1.0", "1.26.4"])
    assert got == ["1.26.4", "2.1", "2.9", "2.10.0rc1", "2.10"]
    with pytest.raises(InputError, match="'latest' is not a release version"):
        sort_versions(["2.1", "latest"])


def test_release_sets_are_parsed_per_framework_in_version_order() -> None:
    sets = parse_releases(["torch=2.12,2.10,2.11", "NumPy=2.1,1.26"])
    assert sets == [
        ReleaseSet("torch", ("2.10", "2.11", "2.12")),
        ReleaseSet("numpy", ("1.26", "2.1")),
    ]
    assert sets[0].requirement("2.11") == "torch==2.11"
    for bad, message in [
        ("torch", "expected FRAMEWORK=V1,V2"),
        ("tensorflow=2.1,2.2", "unknown framework 'tensorflow'"),
        ("torch=2.1", "at least two releases"),
        ("torch=2.1,two", "'two' is not a release version"),
    ]:
        with pytest.raises(InputError, match=message):
            parse_releases([bad])
    with pytest.raises(InputError, match="names torch twice"):
        parse_releases(["torch=2.1,2.2", "torch=2.3,2.4"])


def write_release_db(root: Path, torch_ms: dict[str, float], numpy_by_release=None) -> Path:
    """One machine, one commit, one environment per torch release; conv2d 32 float32 on NumPy
    (1.0 ms everywhere) and on torch (``torch_ms`` per release), each with a +-1 % interval."""
    numpy_by_release = numpy_by_release or {}
    (root / "m1").mkdir(parents=True)
    (root / "m1" / "machine.json").write_text(
        json.dumps({"machine": "m1", "cpu": "Synthetic", "num_cpu": "2", "version": 1})
    )
    (root / "benchmarks.json").write_text(
        json.dumps(
            {
                BENCH: {
                    "name": BENCH,
                    "type": "time",
                    "unit": "seconds",
                    "param_names": ["backend", "size", "dtype"],
                    "params": PARAMS,
                    "version": "1",
                },
                "version": 2,
            }
        )
    )
    for i, (release, ms) in enumerate(torch_ms.items()):
        numpy = numpy_by_release.get(release, "2.1.3")
        env = f"existing-torch-{release}"  # as `run --releases` names them
        values = [1.0e-3, ms * 1e-3]
        header = {
            "commit_hash": COMMIT,
            "env_name": env,
            "date": 1_700_000_000_000,
            "params": {"machine": "m1", "python": "3.11"},
            "python": "3.11",
            "requirements": {"numpy": numpy, "torch": release},
            "env_vars": {},
            "durations": {},
        }
        row = {
            "result": values,
            "params": PARAMS,
            "version": "1",
            "started_at": 1_700_000_000_000 + i,
            "duration": 1.0,
            "stats_ci_99_a": [v * 0.99 for v in values],
            "stats_ci_99_b": [v * 1.01 for v in values],
        }
        write_result_file(root / "m1" / f"{COMMIT[:8]}-{env}.json", header, {BENCH: row})
    return root


def test_a_known_release_step_is_found_with_its_interval(tmp_path: Path) -> None:
    """torch 2.13 makes conv2d 15 % slower and 2.14 keeps it: one change, 2.12 -> 2.13, with
    an interval around +15 %; NumPy's point, the same in every environment, shows nothing."""
    root = write_release_db(
        tmp_path / "results", {"2.11.0": 1.0, "2.12.0": 1.0, "2.13.0": 1.15, "2.14.0": 1.15}
    )
    db = load_results(root)
    versions = env_versions(db.envs)
    axis = release_axis(db.table, versions, "torch")
    torch_rows = axis[axis["backend"] == "torch"]
    assert list(torch_rows["release"]) == ["2.11.0", "2.12.0", "2.13.0", "2.14.0"]
    changes = release_changes(db.table, versions, "torch", threshold=0.05)
    assert len(changes) == 1
    (step,) = changes
    assert (step.before, step.after) == ("2.12.0", "2.13.0")
    assert step.ratio == pytest.approx(1.15, rel=1e-6)
    half = math.hypot(math.log(1.01 / 0.99) / 2, math.log(1.01 / 0.99) / 2)
    assert step.low == pytest.approx(1.15 * math.exp(-half), rel=1e-6)
    assert step.high == pytest.approx(1.15 * math.exp(half), rel=1e-6)
    assert (
        step.describe()
        == "torch 2.12.0 -> 2.13.0: conv2d torch:cpu 32 float32 eager +15 % [+13, +17]"
    )


def test_versions_order_the_axis_not_the_file_order(tmp_path: Path) -> None:
    """2.10 comes after 2.9 (as text it sorts first), so the step reads 2.9 -> 2.10."""
    root = write_release_db(tmp_path / "results", {"2.10.0": 2.0, "2.9.0": 1.0, "2.8.0": 1.0})
    db = load_results(root)
    (step,) = release_changes(db.table, env_versions(db.envs), "torch")
    assert (step.before, step.after, round(step.ratio, 6)) == ("2.9.0", "2.10.0", 2.0)


def test_a_step_that_also_changed_another_framework_says_so(tmp_path: Path) -> None:
    root = write_release_db(
        tmp_path / "results",
        {"2.11.0": 1.0, "2.12.0": 0.8},
        numpy_by_release={"2.12.0": "2.2.0"},
    )
    db = load_results(root)
    (step,) = release_changes(db.table, env_versions(db.envs), "torch")
    assert step.ratio == pytest.approx(0.8) and not step.slower
    assert step.also_changed == ("numpy 2.1.3 -> 2.2.0",)
    assert "(also changed: numpy 2.1.3 -> 2.2.0)" in step.describe()


def test_changes_inside_the_threshold_or_the_interval_are_not_listed(tmp_path: Path) -> None:
    root = write_release_db(tmp_path / "results", {"2.11.0": 1.0, "2.12.0": 1.03, "2.13.0": 1.0})
    db = load_results(root)
    versions = env_versions(db.envs)
    assert release_changes(db.table, versions, "torch", threshold=0.05) == []
    # +3 % is outside a 1 % threshold, but the intervals (+-1 % each) leave it at +3 % [1.6, 4.5]
    assert len(release_changes(db.table, versions, "torch", threshold=0.01)) == 2
    assert release_changes(db.table, versions, "jax") == []  # no environment records jax


# -- building a release's environment, and the run going on past one that fails -------------


PIP_FAILURE = """Collecting torch==9.9
ERROR: Could not find a version that satisfies the requirement torch==9.9 (from versions: 2.11.0, 2.12.0)
ERROR: No matching distribution found for torch==9.9
"""
IMPORT_FAILURE = """Traceback (most recent call last):
  File "<string>", line 1, in <module>
ImportError: numpy.core.multiarray failed to import
"""


def test_first_error_line_is_pips_first_error_else_the_exception() -> None:
    assert first_error_line(PIP_FAILURE).startswith(
        "ERROR: Could not find a version that satisfies the requirement torch==9.9"
    )
    assert first_error_line(IMPORT_FAILURE) == (
        "ImportError: numpy.core.multiarray failed to import"
    )
    assert first_error_line("") == "no output"


def test_requirements_put_the_release_first_and_its_constraints_before_the_base() -> None:
    torch = requirements("torch", "2.12.0")
    assert torch[0] == "torch==2.12.0" and "asv_runner==0.2.5" in torch and "numpy" in torch
    numpy = requirements("numpy", "1.26.4")
    assert numpy[0] == "numpy==1.26.4" and "numpy" not in numpy[1:]
    mxnet = requirements("mxnet", "1.9.1")
    assert mxnet[:2] == ["mxnet==1.9.1", "numpy<1.24"] and "numpy" not in mxnet[2:]


class FakePip:
    """Runs nothing: creates the virtualenv's python, and fails the steps it is told to."""

    def __init__(self, fail: dict[str, str] | None = None) -> None:
        self.fail = fail or {}
        self.calls: list[list[str]] = []

    def __call__(self, cmd):
        import subprocess

        self.calls.append(list(cmd))
        if cmd[1:3] == ["-m", "venv"]:
            (Path(cmd[3]) / "bin").mkdir(parents=True)
            (Path(cmd[3]) / "bin" / "python").write_text("")
        for needle, output in self.fail.items():
            if needle in " ".join(cmd):
                return subprocess.CompletedProcess(cmd, 1, "", output)
        return subprocess.CompletedProcess(cmd, 0, "2.12.0\n", "")


def test_an_environment_is_built_once_then_reused(tmp_path: Path) -> None:
    rset = ReleaseSet("torch", ("2.11.0", "2.12.0"))
    pip = FakePip()
    env = build_release_env(rset, "2.12.0", tmp_path, "python3", runner=pip)
    assert env.error is None and not env.reused and env.label == "torch-2.12.0"
    assert env.python == tmp_path / ".asv" / "releases" / "torch-2.12.0" / "bin" / "python"
    assert [c[1:3] for c in pip.calls] == [
        ["-m", "venv"],
        ["-m", "pip"],
        ["-m", "pip"],
        ["-c", "import torch; print(torch.__version__)"],
    ]
    assert "torch==2.12.0" in pip.calls[1] and "-e" in pip.calls[2]
    again = build_release_env(rset, "2.12.0", tmp_path, "python3", runner=pip)
    assert again.reused and len(pip.calls) == 4  # nothing ran the second time


def test_an_environment_that_fails_to_build_says_why_and_leaves_nothing(tmp_path: Path) -> None:
    rset = ReleaseSet("torch", ("9.9", "2.12.0"))
    env = build_release_env(
        rset, "9.9", tmp_path, "python3", runner=FakePip({"torch==9.9": PIP_FAILURE})
    )
    assert env.error == (
        "install: ERROR: Could not find a version that satisfies the requirement torch==9.9 "
        "(from versions: 2.11.0, 2.12.0)"
    )
    assert not env.path.exists()  # the next run tries again from scratch
    broken = build_release_env(
        rset, "2.12.0", tmp_path, "python3", runner=FakePip({"import torch": IMPORT_FAILURE})
    )
    assert broken.error == "import: ImportError: numpy.core.multiarray failed to import"


def test_run_releases_goes_on_past_a_release_that_cannot_install(monkeypatch, capsys) -> None:
    """`run --releases torch=9.9,2.12.0`: 9.9 is reported with its first error line, 2.12.0
    still runs, and the run exits 1."""
    from tensorbench import sysinfo
    from tensorbench.asv import machine
    from tensorbench.asv import releases as asvreleases
    from tensorbench.asv import run as asvrun
    from tensorbench.cli import main
    from tensorbench.cli import runs as cliruns

    ran: list[tuple[str, Path]] = []

    def build(rset, version, repo):
        path = Path("/nonexistent") / f"{rset.framework}-{version}"
        if version == "9.9":
            return asvreleases.ReleaseEnv(rset.framework, version, path, error="install: ERROR: x")
        return asvreleases.ReleaseEnv(rset.framework, version, path)

    def run_existing(env, suite, machine_name, commit, *rest):
        ran.append((env, rest[3]))
        return asvrun.EnvRun(env, Path("/nonexistent/result.json"), 0)

    monkeypatch.setattr(sysinfo, "info", lambda: {})
    monkeypatch.setattr(machine, "ensure_machine", lambda info, name=None: "m1")
    monkeypatch.setattr(asvreleases, "build_release_env", build)
    monkeypatch.setattr(asvrun, "run_existing", run_existing)
    monkeypatch.setattr(cliruns, "print_summary", lambda *a, **k: 0)
    code = main(["run", "--releases", "torch=9.9,2.12.0"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "== torch-9.9: skipped, install: ERROR: x" in err
    assert ran == [("torch-2.12.0", Path("/nonexistent/torch-2.12.0/bin/python"))]
    assert "asv produced no results in: torch-9.9" in out


def test_releases_refuse_the_options_of_other_environments(capsys) -> None:
    from tensorbench.cli import main

    code = main(["run", "--releases", "torch=2.11,2.12", "--managed"])
    assert code == 2
    assert "--releases builds its own environments" in capsys.readouterr().err


# -- the gate over releases ---------------------------------------------------------------


def test_regressions_by_release_fail_on_an_open_step_and_pass_an_acknowledged_one(
    tmp_path: Path, capsys
) -> None:
    from tensorbench.cli import main

    root = write_release_db(
        tmp_path / "results", {"2.11.0": 1.0, "2.12.0": 1.0, "2.13.0": 1.15, "2.14.0": 1.15}
    )
    code = main(["regressions", "--results", str(root), "--by", "release"])
    out = capsys.readouterr().out
    assert code == 1
    assert (
        "torch 2.12.0 -> 2.13.0: conv2d torch:cpu 32 float32 eager +15 % [+13, +17]  "
        "[m1 cccccccc]  OPEN"
    ) in out
    assert (
        "1 release-to-release change(s) beyond 5% in torch: 1 beyond the noise floor, 1 open" in out
    )
    (root / "acknowledged.toml").write_text(
        '[[acknowledged]]\nbenchmark = "*time_conv2d"\nrelease = "torch 2.13"\n'
        'reason = "oneDNN 3.x: known"\n'
    )
    code = main(["regressions", "--results", str(root), "--by", "release", "--json"])
    (row,) = json.loads(capsys.readouterr().out)
    assert code == 0
    assert row["acknowledged"] and row["reason"] == "oneDNN 3.x: known" and not row["fails_gate"]
    assert (row["before"], row["after"], round(row["ratio"], 6)) == ("2.12.0", "2.13.0", 1.15)


def test_regressions_by_release_without_releases_is_nothing_to_judge(tmp_path: Path, capsys):
    from tensorbench.cli import main

    root = write_release_db(tmp_path / "results", {"2.11.0": 1.0})
    code = main(["regressions", "--results", str(root), "--by", "release"])
    assert code == 2
    assert "no framework has results at two releases or more" in capsys.readouterr().err


def test_an_acknowledgement_needs_a_commit_or_a_release(tmp_path: Path) -> None:
    from tensorbench.analysis.acknowledgements import load_acknowledged

    path = tmp_path / "acknowledged.toml"
    path.write_text('[[acknowledged]]\nbenchmark = "x"\n')
    with pytest.raises(InputError, match="acknowledged.toml:1: entry 1 needs either a 'commit'"):
        load_acknowledged(path)
    path.write_text('[[acknowledged]]\nbenchmark = "x"\nrelease = "2.13"\n')
    with pytest.raises(InputError, match="must be 'FRAMEWORK VERSION'"):
        load_acknowledged(path)
    path.write_text('[[acknowledged]]\nbenchmark = "x"\nrelease = "Torch  2.13"\n')
    (ack,) = load_acknowledged(path)
    assert ack.matches_release("x", "torch", "2.13.0") and not ack.matches_release(
        "x", "torch", "2.14"
    )
    assert ack.matches_release("x", "torch", "2.13.0+cpu")  # any build of that release
    assert not ack.matches("x", "abcdef")  # a release entry never acknowledges a commit


# -- the Releases page --------------------------------------------------------------------


def _releases_page(monkeypatch, results: Path):
    from streamlit.testing.v1 import AppTest

    app = Path(__file__).resolve().parents[1] / "dashboard" / "streamlit_app.py"
    monkeypatch.setenv("TENSORBENCH_RESULTS", str(results))
    at = AppTest.from_file(str(app), default_timeout=120)
    at.run()
    at.switch_page("app_pages/releases.py")
    at.run()
    assert not at.exception, at.exception
    return at


def test_releases_page_lists_the_step_and_draws_the_releases(tmp_path: Path, monkeypatch) -> None:
    root = write_release_db(
        tmp_path / "results", {"2.11.0": 1.0, "2.12.0": 1.0, "2.13.0": 1.15, "2.14.0": 1.15}
    )
    at = _releases_page(monkeypatch, root)
    assert at.selectbox[0].label == "Framework" and at.selectbox[0].value == "torch"
    (changes,) = at.dataframe
    frame = changes.value
    assert list(frame["step"]) == ["2.12.0 → 2.13.0"]
    assert list(frame["change"]) == ["+15 %"] and list(frame["interval"]) == ["[+13, +17] %"]
    (chart,) = at.get("vega_lite_chart")
    spec = chart.proto.spec
    assert all(v in spec for v in ("2.11.0", "2.12.0", "2.13.0", "2.14.0", "torch release"))


def test_releases_page_without_releases_says_how_to_get_them(tmp_path: Path, monkeypatch) -> None:
    at = _releases_page(monkeypatch, write_release_db(tmp_path / "results", {"2.11.0": 1.0}))
    assert "run --releases torch=2.11,2.12" in at.info[0].value


def test_report_has_a_releases_section_with_the_step(tmp_path: Path) -> None:
    from tensorbench.report.build import build_report
    from tensorbench.report.content import Figure, Table

    root = write_release_db(
        tmp_path / "results", {"2.11.0": 1.0, "2.12.0": 1.0, "2.13.0": 1.15, "2.14.0": 1.15}
    )
    report = build_report(root)
    (section,) = [s for s in report.sections if s.slug == "releases"]
    (figure,) = [b for b in section.blocks if isinstance(b, Figure)]
    assert figure.slug == "releases-torch" and "2.11.0, 2.12.0, 2.13.0, 2.14.0" in figure.source
    (table,) = [b for b in section.blocks if isinstance(b, Table)]
    assert table.rows == [
        [
            "torch 2.12.0 → 2.13.0",
            "conv2d torch:cpu 32 float32 eager",
            "m1",
            "+15 %",
            "[+13, +17] %",
            "beyond",
            "",
        ]
    ]
    plain = build_report(write_release_db(tmp_path / "one", {"2.11.0": 1.0}))
    assert "releases" not in [s.slug for s in plain.sections]


def test_a_resolver_conflict_keeps_its_cause() -> None:
    output = """ERROR: Cannot install torch==2.15.0 because these package versions have conflicting dependencies.

The conflict is caused by:
    The user requested torch==2.15.0
    The user requested (constraint) torch<=2.14.1

To fix this you could try to:
"""
    assert first_error_line(output) == (
        "ERROR: Cannot install torch==2.15.0 because these package versions have conflicting "
        "dependencies. (The user requested torch==2.15.0; The user requested (constraint) "
        "torch<=2.14.1)"
    )


def test_scipy_releases_come_from_the_numpy_backends_facts(tmp_path: Path) -> None:
    """SciPy is no backend: its version is in the NumPy backend's facts, and its releases move
    the NumPy points (sparse graph workloads)."""
    root = tmp_path / "results"
    write_release_db(root, {"2.11.0": 1.0})  # machine, benchmarks.json and one other env
    for i, (scipy, ms) in enumerate((("1.13.1", 1.0), ("1.17.1", 1.3))):
        header = {
            "commit_hash": COMMIT,
            "env_name": f"existing-scipy-{scipy}",
            "date": 1_700_000_000_000,
            "params": {"machine": "m1", "python": "3.11"},
            "python": "3.11",
            "requirements": {},
            "env_vars": {},
            "durations": {},
            "tensorbench": {"facts": {"numpy": {"version": "2.4.6", "scipy": scipy}}},
        }
        values = [ms * 1e-3, None]
        row = {
            "result": values,
            "params": PARAMS,
            "version": "1",
            "started_at": 1_700_000_000_100 + i,
            "duration": 1.0,
            "stats_ci_99_a": [ms * 0.99e-3, None],
            "stats_ci_99_b": [ms * 1.01e-3, None],
        }
        write_result_file(root / "m1" / f"{COMMIT[:8]}-scipy-{scipy}.json", header, {BENCH: row})
    db = load_results(root)
    (step,) = release_changes(db.table, env_versions(db.envs), "scipy")
    assert (step.before, step.after) == ("1.13.1", "1.17.1")
    assert step.label.startswith("conv2d numpy:cpu 32") and step.ratio == pytest.approx(1.3)


def write_noisy_release_db(root: Path, torch_ms: dict[str, float], numpy_ms: list[float]) -> Path:
    """As `write_release_db`, but NumPy's point (the control: no torch release touches it) reads
    ``numpy_ms`` in the successive environments, as unpaired runs minutes apart do here."""
    write_release_db(root, torch_ms)
    for (release, _), ms in zip(torch_ms.items(), numpy_ms, strict=True):
        path = root / "m1" / f"{COMMIT[:8]}-existing-torch-{release}.json"
        data = json.loads(path.read_text())
        row = data["results"][BENCH]
        row[0][0] = ms * 1e-3
        row[data["result_columns"].index("stats_ci_99_a")][0] = ms * 0.99e-3
        row[data["result_columns"].index("stats_ci_99_b")][0] = ms * 1.01e-3
        path.write_text(json.dumps(data))
    return root


def test_a_step_within_the_runs_noise_floor_is_not_a_change(tmp_path: Path) -> None:
    """The control point moved by up to 30 % between environments: a torch step of +15 % is
    within what unpaired runs here cannot resolve; +60 % is beyond it."""
    releases = [f"2.{i}.0" for i in range(8, 15)]
    numpy_ms = [1.0, 1.3, 1.0, 0.8, 1.0, 1.25, 1.0]
    torch_ms = dict(zip(releases, [1, 1, 1.15, 1.15, 1.15, 1.84, 1.84], strict=True))
    root = write_noisy_release_db(tmp_path / "results", torch_ms, numpy_ms)
    db = load_results(root)
    versions = env_versions(db.envs)
    floors = noise_floor(db.table, versions)
    ((floor, n),) = floors.values()
    assert n == 6 and 0.25 < floor < 0.27  # ~95th percentile of |log 1.3|, |log 0.8|, ...
    big, small = release_changes(db.table, versions, "torch")
    assert (big.before, big.after) == ("2.12.0", "2.13.0") and big.ratio == pytest.approx(1.6)
    assert big.beyond_floor and big.floor == pytest.approx(math.expm1(floor))
    assert (small.before, small.after, small.beyond_floor) == ("2.9.0", "2.10.0", False)
    # the control itself is never listed as a torch change
    assert all(
        c.label.startswith("conv2d torch:cpu")
        for c in release_changes(db.table, versions, "torch", floors={})
    )


@pytest.mark.parametrize(("b_ms", "code", "status"), [(1.0, 0, "not confirmed"), (1.15, 1, "OPEN")])
def test_confirm_remeasures_a_release_step_paired(
    tmp_path: Path, monkeypatch, capsys, b_ms: float, code: int, status: str
) -> None:
    """`regressions --by release --confirm` times the step's point in the two releases'
    environments, alternated: equal times drop the step from the gate, +15 % keeps it."""
    from tensorbench.asv import worker
    from tensorbench.cli import main

    root = write_release_db(tmp_path / "results", {"2.12.0": 1.0, "2.13.0": 1.15})
    repo = tmp_path / "repo"
    for version in ("2.12.0", "2.13.0"):
        python = repo / ".asv" / "releases" / f"torch-{version}" / "bin" / "python"
        python.parent.mkdir(parents=True)
        python.write_text("")
    (repo / "asv.conf.json").write_text("{}")
    timed: list[str] = []

    def fake_worker(side, points, **kw):
        timed.append(side.label)
        ms = 1.0 if side.label == "torch-2.12.0" else b_ms
        return [{"status": "ok", "median": ms * 1e-3} for _ in points]

    monkeypatch.setattr(worker, "run_worker", fake_worker)
    got = main(
        ["regressions", "--results", str(root), "--by", "release", "--confirm"]
        + ["--repo", str(repo), "--min-rounds", "6", "--max-rounds", "6", "--no-progress"]
    )
    out = capsys.readouterr().out
    assert got == code
    assert set(timed) == {"torch-2.12.0", "torch-2.13.0"} and len(timed) == 24  # 6 ABBA rounds
    assert f"conv2d torch:cpu 32 float32 eager +15 % [+13, +17]  [m1 cccccccc]  {status}" in out
