"""tensorbench.charts and `tensorbench chart`: files written without a server, right series.

The numbers charts draw are tested in test_rates.py (tensorbench.analysis.rates)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

from tensorbench import charts
from tensorbench.analysis.rates import machine_peaks
from tensorbench.analysis.regressions import find_regressions as find_changes
from tensorbench.analysis.results import load_results
from tensorbench.cli import main
from tensorbench.errors import InputError
from tensorbench.workloads import work_model

SVG = "{http://www.w3.org/2000/svg}"
BACKENDS = ("numpy:cpu", "torch:cpu", "jax:cpu")


@pytest.fixture(scope="module")
def results(synthetic_results) -> Path:
    """A small tensorbench-shaped asv database (the project's results/ comes later)."""
    return synthetic_results(
        commits=8,
        backends=BACKENDS,
        sizes=(64, 256, 1024),
        threads=(1, 2, 4),
    )


@pytest.fixture(scope="module")
def table(results: Path) -> pd.DataFrame:
    return load_results(results).table


def line_paths(svg: Path) -> list[ET.Element]:
    """The <path>s of every line mark in a Vega SVG (one per series)."""
    root = ET.parse(svg).getroot()
    assert root.tag == f"{SVG}svg"
    paths = []
    for group in root.iter(f"{SVG}g"):
        if "mark-line" in (group.get("class") or ""):
            paths += list(group.iter(f"{SVG}path"))
    return paths


def values(chart) -> list[dict]:
    """The first inline data values in a chart's spec (Altair lifts shared data upwards)."""

    def walk(node):
        if isinstance(node, dict):
            data = node.get("data")
            if isinstance(data, dict) and isinstance(data.get("values"), list):
                yield data["values"]
            for v in node.values():
                yield from walk(v)
        elif isinstance(node, list):
            for v in node:
                yield from walk(v)

    return next(walk(chart.to_dict()))


def texts(svg: Path) -> set[str]:
    return {t.text for t in ET.parse(svg).getroot().iter(f"{SVG}text") if t.text}


def test_cli_scaling_svg_one_series_per_backend(results: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "fig.svg"
    code = main(
        ["chart", "scaling", "--workload", "matmul", "--results", str(results), "--out", str(out)]
    )
    assert code == 0, capsys.readouterr().err
    paths = line_paths(out)
    # time and throughput panels, one line each per backend
    assert len(paths) == 2 * len(BACKENDS)
    assert {"numpy", "torch", "jax"} <= texts(out)  # the legend names every framework
    colors = {p.get("stroke") for p in paths}
    assert colors == {charts.FRAMEWORK_COLORS[b.split(":")[0]] for b in BACKENDS}


@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG"), (".pdf", b"%PDF")])
def test_cli_raster_and_pdf(results: Path, tmp_path: Path, suffix: str, magic: bytes) -> None:
    out = tmp_path / f"fig{suffix}"
    assert (
        main(
            [
                "chart",
                "scaling",
                "--workload",
                "matmul",
                "--results",
                str(results),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert out.read_bytes().startswith(magic)


@pytest.mark.parametrize("kind", ["compare", "heatmap", "history"])
def test_cli_other_kinds(results: Path, tmp_path: Path, kind: str) -> None:
    out = tmp_path / f"{kind}.svg"
    args = ["chart", kind, "--workload", "matmul", "--results", str(results), "--out", str(out)]
    if kind == "history":
        args += ["--backend", "numpy:cpu", "--size", "1024"]
    assert main(args) == 0
    assert ET.parse(out).getroot().tag == f"{SVG}svg"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scaling", "--workload", "nope"], "unknown workload 'nope' (valid: conv2d, matmul)"),
        (["scaling", "--workload", "matmul", "--machine", "moon"], "unknown machine 'moon'"),
        (["scaling", "--workload", "matmul", "--backend", "tf:cpu"], "unknown backend 'tf:cpu'"),
        (["compare"], "needs --workload"),
        (["history"], "several benchmarks match"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2(
    results: Path, tmp_path: Path, capsys, args: list[str], message: str
) -> None:
    code = main(["chart", *args, "--results", str(results), "--out", str(tmp_path / "x.svg")])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.count("\n") == 1


def test_cli_missing_dir_and_bad_extension(results: Path, tmp_path: Path, capsys) -> None:
    assert (
        main(
            [
                "chart",
                "scaling",
                "--workload",
                "matmul",
                "--results",
                str(tmp_path / "none"),
                "--out",
                str(tmp_path / "x.svg"),
            ]
        )
        == 2
    )
    assert "results directory not found" in capsys.readouterr().err
    assert (
        main(
            [
                "chart",
                "scaling",
                "--workload",
                "matmul",
                "--results",
                str(results),
                "--out",
                str(tmp_path / "x.gif"),
            ]
        )
        == 2
    )
    assert "use .svg, .png or .pdf" in capsys.readouterr().err


def test_same_colour_per_framework_everywhere(table: pd.DataFrame) -> None:
    for chart in (
        charts.compare_chart(table, workload="matmul"),
        charts.scaling_chart(table, workload="matmul", work_model=work_model),
        charts.thread_scaling_chart(table),
    ):
        spec = chart.to_json()
        for name in ("numpy", "torch", "jax"):
            assert charts.FRAMEWORK_COLORS[name] in spec


def test_compare_chart_shows_one_row_per_backend(table: pd.DataFrame) -> None:
    chart = charts.compare_chart(table, workload="matmul", size=1024)
    # every backend named with its mode: the original benchmarks time JAX jit-compiled
    modes = {b: "compiled" if b.startswith("jax") else "eager" for b in BACKENDS}
    expected = {f"{b} · {m}" for b, m in modes.items()}
    assert {r["label"] for r in values(chart.hconcat[0])} == expected


def test_heatmap_has_a_geometric_mean_row(table: pd.DataFrame) -> None:
    cells = values(charts.heatmap_chart(table))
    assert {c["workload"] for c in cells} == {"matmul", "conv2d", "geometric mean"}


def test_history_marks_regressions(synthetic_results) -> None:
    results = synthetic_results(commits=15, regression=1.5)
    table = load_results(results).table
    found = find_changes(table, threshold=0.05, results_dir=results)
    found = found[found["kind"] == "regression"]
    assert len(found)
    first = found.iloc[0]
    chart = charts.history_chart(
        table, benchmark=first.benchmark, param_key=first.param_key, regressions=found
    )
    rules = [layer for layer in chart.layer if getattr(layer, "mark", None) == "rule"]
    rules += [
        layer
        for layer in chart.layer
        if getattr(getattr(layer, "mark", None), "type", None) == "rule"
    ]
    assert rules, "no regression rule drawn"
    marked = values(rules[0])
    assert marked[0]["commit"] == first.first_bad_commit[:8]


def test_peak_ceiling_and_machine_peaks(table: pd.DataFrame) -> None:
    chart = charts.scaling_chart(
        table, workload="matmul", peaks={"laptop": 123.0}, work_model=work_model
    )
    assert "measured peak 123 GFLOP/s" in chart.to_json()
    track = table.iloc[:1].copy()
    track["benchmark"] = "bench_machine.Peak.track_peak_gflops"
    track["kind"] = "track"
    track["unit"] = "GFLOP/s"
    track["value"] = 321.0
    assert machine_peaks(track) == {"laptop": 321.0}
    assert machine_peaks(table.iloc[:0], {"m": {"peak_gflops": 50}}) == {"m": 50.0}


def test_talk_theme_is_16_9_with_large_fonts(table: pd.DataFrame, tmp_path: Path) -> None:
    out = charts.save_chart(
        charts.scaling_chart(table, workload="matmul", work_model=work_model), tmp_path / "t.svg"
    )
    root = ET.parse(out).getroot()
    ratio = float(root.get("width")) / float(root.get("height"))
    assert 1.6 <= ratio <= 2.0
    sizes = {t.get("font-size") for t in root.iter(f"{SVG}text")}
    assert "20px" in sizes or "20" in sizes


def test_empty_selection_is_a_message_not_an_error(table: pd.DataFrame) -> None:
    chart = charts.scaling_chart(table, workload="matmul", machine="nowhere")
    assert "no matmul results" in chart.to_json()
    with pytest.raises(InputError):
        charts.chart_bytes(chart, "gif")


def test_generic_charts_on_foreign_db(shared_data: Path) -> None:
    t = load_results(shared_data / "asv-results" / "openblas-benchmarks").table
    chart = charts.param_scaling_chart(t, benchmark="benchmarks.Nrm2.time_nrm2", x_param="size")
    assert {v["x"] for v in values(chart)} == {100, 200, 400, 600, 800, 1000}
    for c in (
        charts.latest_values_chart(t, benchmark="benchmarks.Nrm2.time_nrm2"),
        charts.status_chart(t),
        charts.coverage_chart(t),
    ):
        c.to_dict()  # a valid Vega-Lite spec


def test_busy_runs_are_greyed_out_not_dropped(synthetic_results, tmp_path):
    """A result file marked busy by the noise guard: its rows carry the reason, and the compare
    and scaling charts draw those points faded, with the reason in the tooltip."""
    import json
    import shutil

    from tensorbench.analysis.results import load_results
    from tensorbench.charts.figures import compare_chart, scaling_chart

    db = shutil.copytree(synthetic_results(), tmp_path / "db")
    files = sorted((db / "laptop").glob("*-*.json"))
    newest = max(files, key=lambda f: json.loads(f.read_text())["date"])  # what charts show
    data = json.loads(newest.read_text())
    reason = "other processes were busy: cc1 (1.00 cores)"
    data.setdefault("tensorbench", {})["busy"] = reason
    newest.write_text(json.dumps(data))
    table = load_results(db, cache=False).table
    busy_rows = table[table["busy"].astype(object) == reason]
    assert len(busy_rows) > 0 and set(busy_rows["commit"].astype(str)) == {data["commit_hash"]}
    assert table.loc[table["busy"].isna(), "commit"].nunique() == len(files) - 1
    for chart in (
        compare_chart(table, workload="matmul"),
        scaling_chart(table, workload="matmul"),
    ):
        spec = json.dumps(chart.to_dict())
        assert reason in spec and "datum.busy" in spec


@pytest.mark.parametrize("kind", ["compare", "scaling", "history", "heatmap", "roofline"])
def test_every_chart_kind_draws_the_committed_results(kind: str, tmp_path) -> None:
    """Each kind the CLI offers draws the project's own results (roofline once had no entry in
    the CLI's option table and always ended in an internal error)."""
    from tensorbench.analysis.chartrows import CHART_KINDS
    from tensorbench.cli import main
    from tensorbench.conventions import RESULTS_DIR

    assert kind in CHART_KINDS
    out = tmp_path / f"{kind}.svg"
    pick = ["--workload", "matmul"] if kind in ("compare", "scaling", "history") else []
    pick += ["--benchmark", "bench_array.Matmul.time_matmul"] if kind == "history" else []
    assert main(["chart", kind, *pick, "--results", str(RESULTS_DIR), "--out", str(out)]) == 0
    assert out.read_text().lstrip().startswith("<svg")
