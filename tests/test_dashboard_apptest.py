"""Every dashboard page under streamlit.testing.v1.AppTest, on every database we have.

Databases: the shared real ones (OpenBLAS, kedro, conda v1), a synthetic tensorbench-shaped
one, a copy with a corrupt file (the warning lists it), and the project's results/ where it
holds results. Each page must run without an exception and show its widgets and a chart.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tensorbench.analysis.results import load_results

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "dashboard" / "streamlit_app.py")
SHARED = ("openblas-benchmarks", "kedro-benchmark-results", "conda-benchmarks-v1")
# page -> the widget labels it must show, for tensorbench's own results and for others'
PAGES = {
    "app_pages/overview.py": ([], []),
    "app_pages/compare.py": (["Workload", "dtype", "Size"], ["Benchmark"]),
    "app_pages/scaling.py": (["Workload", "dtype"], ["Benchmark"]),
    "app_pages/regressions.py": (["Benchmark", "Parameters"], ["Benchmark", "Parameters"]),
    "app_pages/environments.py": ([], []),
}


@pytest.fixture(scope="module")
def synthetic(synthetic_results) -> Path:
    return synthetic_results(
        commits=12,
        backends=("numpy:cpu", "torch:cpu", "torch:cuda"),
        machines=("laptop", "gpu-box"),
        threads=(1, 2),
    )


def database(name: str, synthetic: Path, shared: Path | None) -> Path:
    if name == "synthetic":
        return synthetic
    if name == "project":
        project = REPO / "results"
        if not project.is_dir() or load_results(project).table.empty:
            pytest.skip("the project's results/ holds no asv results yet")
        return project
    if shared is None:
        pytest.skip("shared data not present")
    return shared / "asv-results" / name


def run_page(monkeypatch: pytest.MonkeyPatch, results: Path, page: str) -> AppTest:
    monkeypatch.setenv("TENSORBENCH_RESULTS", str(results))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    if page != "app_pages/overview.py":
        at.switch_page(page)
        at.run()
    return at


@pytest.fixture(scope="module")
def shared_dir() -> Path | None:
    path = REPO.parent / "shared" / "data"
    return path if path.is_dir() else None


@pytest.mark.parametrize("page", list(PAGES))
@pytest.mark.parametrize("db", ["synthetic", "project", *SHARED])
def test_page_runs(
    monkeypatch: pytest.MonkeyPatch, synthetic: Path, shared_dir: Path | None, db: str, page: str
) -> None:
    results = database(db, synthetic, shared_dir)
    at = run_page(monkeypatch, results, page)
    assert not at.exception, [e.value for e in at.exception]
    ours = not load_results(results).table["workload"].isna().all()
    expected = PAGES[page][0 if ours else 1]
    labels = [w.label for w in at.selectbox]
    for label in expected:
        assert label in labels, f"{page} on {db}: no {label!r} selectbox (has {labels})"
    assert len(at.get("vega_lite_chart")) >= 1, f"{page} on {db}: no chart"
    assert [w.label for w in at.sidebar.multiselect] == ["Machines"]
    assert at.title and at.title[0].value


def test_corrupt_file_listed_in_warning(
    monkeypatch: pytest.MonkeyPatch, synthetic: Path, tmp_path: Path
) -> None:
    broken = shutil.copytree(synthetic, tmp_path / "broken")
    victim = sorted((broken / "laptop").glob("*-virtualenv-py3.11.json"))[0]
    victim.write_text(victim.read_text()[:200])  # truncated
    at = run_page(monkeypatch, broken, "app_pages/overview.py")
    assert not at.exception
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 1 and victim.name in warnings[0] and "truncated" in warnings[0]
    assert len(at.get("vega_lite_chart")) >= 1  # the rest is still shown


def test_missing_results_dir_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = run_page(monkeypatch, tmp_path / "nowhere", "app_pages/overview.py")
    assert not at.exception
    assert "results directory not found" in at.error[0].value


def test_machine_filter_narrows_every_chart(
    monkeypatch: pytest.MonkeyPatch, synthetic: Path
) -> None:
    at = run_page(monkeypatch, synthetic, "app_pages/scaling.py")
    # two machines: one row of panels per machine, titled with its name
    assert "gpu-box" in at.get("vega_lite_chart")[0].proto.spec
    at.sidebar.multiselect[0].set_value(["laptop"]).run()
    assert not at.exception
    assert "gpu-box" not in at.get("vega_lite_chart")[0].proto.spec


def test_dashboard_command_bad_input(tmp_path: Path, capsys) -> None:
    from tensorbench.cli import main

    assert main(["dashboard", "--results", str(tmp_path / "none")]) == 2
    assert "results directory not found" in capsys.readouterr().err
    assert main(["dashboard", "--port", "0"]) == 2


def test_dashboard_command_serves_on_loopback_and_stops(synthetic: Path) -> None:
    """`tensorbench dashboard` answers on 127.0.0.1; SIGTERM to it stops the server too."""
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cli = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tensorbench.cli",
            "dashboard",
            "--results",
            str(synthetic),
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/_stcore/health"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    assert r.read() == b"ok"
                    break
            except OSError:
                assert time.monotonic() < deadline, "dashboard did not start"
                assert cli.poll() is None, "dashboard exited"
                time.sleep(0.3)
    finally:
        cli.send_signal(signal.SIGTERM)  # our own child, by its pid
        cli.wait(timeout=30)
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=2)


def test_file_system_faults_listed_once_and_rows_not_doubled(
    monkeypatch: pytest.MonkeyPatch, synthetic: Path, tmp_path: Path
) -> None:
    """A symlink loop among result files and a symlinked duplicate machine folder: every page
    still renders, rows are not doubled, and each skipped path is listed once."""
    import os

    odd = shutil.copytree(synthetic, tmp_path / "odd")
    os.symlink("loop-b.json", odd / "laptop" / "loop-a.json")
    os.symlink("loop-a.json", odd / "laptop" / "loop-b.json")
    os.symlink("laptop", odd / "laptop-again")
    clean = load_results(synthetic, cache=False)
    for page in PAGES:
        at = run_page(monkeypatch, odd, page)
        assert not at.exception, (page, [e.value for e in at.exception])
    at = run_page(monkeypatch, odd, "app_pages/overview.py")
    (warning,) = [w.value for w in at.warning]
    for name, reason in (
        ("loop-a.json", "symlink loop"),
        ("loop-b.json", "symlink loop"),
        ("laptop-again", "same folder as"),
    ):
        lines = [line for line in warning.splitlines() if f"`{name}`" in line]
        assert len(lines) == 1 and reason in lines[0], warning
    assert f"{len(clean.table):,} results" in " ".join(c.value for c in at.sidebar.caption)


def test_overview_does_not_count_placeholders_as_skipped(
    monkeypatch: pytest.MonkeyPatch, synthetic: Path, tmp_path: Path
) -> None:
    """Points a suite left out ("not in suite quick") are not counted as skipped."""
    import json

    from tensorbench.analysis.results import placeholders

    db = shutil.copytree(synthetic, tmp_path / "suite")
    for path in sorted((db / "laptop").glob("*-*.json")):
        d = json.loads(path.read_text())
        name = next(iter(d["results"]))
        d["results"][name][0] = [float("nan")] * len(d["results"][name][0])
        keys = load_results(synthetic, cache=False).table
        keys = keys.loc[keys["benchmark"] == name, "param_key"].astype(str).unique()
        d["tensorbench"]["skip_reasons"] = {name: {k: "not in suite quick" for k in keys}}
        path.write_text(json.dumps(d))
    table = load_results(db, cache=False).table
    left_out = placeholders(table)
    assert left_out.sum() > 0
    assert (table.loc[left_out, "status"] == "skipped").all()
    at = run_page(monkeypatch, db, "app_pages/overview.py")
    assert not at.exception
    (ok,) = [m for m in at.metric if m.label == "Results ok"]
    counted = len(table) - int(left_out.sum())
    assert ok.proto.help.startswith(f"of {counted:,};"), ok.proto.help
    assert f"{int(left_out.sum()):,} grid points not in the suite" in ok.proto.help


def test_compare_shows_percent_of_roofline_and_modes(
    monkeypatch: pytest.MonkeyPatch, synthetic: Path
) -> None:
    at = run_page(monkeypatch, synthetic, "app_pages/compare.py")
    assert not at.exception, [e.value for e in at.exception]
    tables = [df.value for df in at.dataframe]
    roof = next(t for t in tables if "% of roofline" in t.columns)
    assert {"backend · mode", "GFLOP/s", "FLOP/byte"} <= set(roof.columns)
    # the original benchmarks: numpy and torch eager (the synthetic database has no ceilings)
    assert all(label.endswith(" · eager") for label in roof["backend · mode"])


def test_fast_spec_is_altairs_spec(synthetic: Path) -> None:
    """The dashboard's quick chart-to-spec conversion gives exactly Altair's spec, and leaves
    the (shared) chart as it was."""
    import sys

    sys.path.insert(0, str(REPO / "dashboard"))
    import ui

    from tensorbench import charts

    table = load_results(synthetic).table
    for chart in (
        charts.history_chart(table, benchmark=str(table["benchmark"].iloc[0])),
        charts.status_chart(table),
        charts.thread_scaling_chart(table),
    ):
        before = chart.to_dict()
        assert ui.fast_spec(chart) == charts.style(chart, "screen").to_dict()
        assert chart.to_dict() == before
