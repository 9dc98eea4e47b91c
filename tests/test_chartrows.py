"""tensorbench.analysis.chartrows: which results each chart kind draws, and the reason given
when nothing matches (the command line only parses and writes; test_charts.py runs it)."""

from __future__ import annotations

import pandas as pd
import pytest

from tensorbench.analysis.chartrows import CHART_FILTERS, CHART_KINDS, ChartRequest, chart_rows
from tensorbench.analysis.results import load_results
from tensorbench.errors import InputError

MATMUL = "bench_array.Matmul.time_matmul"
THREADS = "bench_array.MatmulThreads.time_matmul_threads"


@pytest.fixture(scope="module")
def table(synthetic_results) -> pd.DataFrame:
    path = synthetic_results(commits=4, sizes=(64, 256), threads=(1, 2))
    return load_results(path).table


def test_every_kind_has_its_filters() -> None:
    assert set(CHART_KINDS) == set(CHART_FILTERS)


@pytest.mark.parametrize(
    ("kind", "given", "message"),
    [
        ("heatmap", {"size": 64.0}, "chart heatmap takes no --size (its filters: --device,"),
        ("scaling", {"benchmark": MATMUL}, "chart scaling takes no --benchmark"),
        ("compare", {"benchmark": MATMUL}, "chart compare takes no --benchmark"),
        ("pie", {}, "unknown chart 'pie' (valid: compare, scaling, history, heatmap, roofline)"),
    ],
)
def test_a_filter_the_kind_would_ignore_is_refused(kind, given, message) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ChartRequest(kind, **given)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (ChartRequest("scaling", workload="fft"), "unknown workload 'fft' (valid: conv2d, matmul)"),
        (
            ChartRequest("compare", workload="matmul", backend=["tf:cpu"]),
            "unknown backend 'tf:cpu' (valid: jax, numpy, torch, jax:cpu, numpy:cpu, torch:cpu)",
        ),
        (ChartRequest("heatmap", machine=["moon"]), "unknown machine 'moon'"),
        (ChartRequest("heatmap", device=["cuda"]), "unknown device 'cuda' (valid: cpu)"),
        (ChartRequest("compare"), "chart compare needs --workload (valid: conv2d, matmul)"),
        (
            ChartRequest("compare", workload="matmul", size=512),
            "--size 512: no matmul results at that size (sizes: 64, 256)",
        ),
        (ChartRequest("history", benchmark="nope"), "unknown benchmark 'nope'"),
        (ChartRequest("history", workload="conv2d", benchmark=MATMUL), "no results match"),
        (
            ChartRequest("history"),
            "several benchmarks match; choose one with --benchmark: "
            f"bench_array.Conv2D.time_conv2d, {MATMUL}, {THREADS}",
        ),
        (
            ChartRequest("history", workload="conv2d", backend=["torch"], size=64, dtype="x"),
            "unknown dtype 'x' (valid: float32)",
        ),
    ],
)
def test_nothing_to_draw_says_why(table, request_, message) -> None:
    with pytest.raises(InputError) as info:
        chart_rows(table, request_)
    assert message in str(info.value)


def test_history_is_one_benchmark_at_the_filters(table) -> None:
    picked = chart_rows(
        table, ChartRequest("history", workload="matmul", backend=["numpy:cpu"], size=64)
    )
    assert picked.benchmark == MATMUL  # the thread-scaling twin has no size 64
    assert set(picked.rows["benchmark"]) == {MATMUL}
    assert set(picked.rows["backend"]) == {"numpy"} and set(picked.rows["size"]) == {64.0}
    assert len(picked.rows) == table["commit"].nunique()  # one point per commit
    # the regression search sees every result of the benchmark, not only the drawn ones
    assert picked.series is not None
    assert len(picked.series) == (table["benchmark"] == MATMUL).sum()


def test_history_takes_the_thread_twin_only_by_name(table) -> None:
    plain = chart_rows(table, ChartRequest("history", workload="matmul", backend=["numpy"]))
    assert plain.benchmark == MATMUL  # both match the filters; the twin is not the default
    picked = chart_rows(table, ChartRequest("history", benchmark=THREADS))
    assert picked.benchmark == THREADS and picked.rows["threads"].notna().all()


def test_rows_handed_to_each_kind(table) -> None:
    compare = chart_rows(table, ChartRequest("compare", workload="matmul", backend=["torch"]))
    assert set(compare.rows["backend"]) == {"torch"}  # the chart filters workload and size
    heatmap = chart_rows(table, ChartRequest("heatmap", workload="conv2d"))
    assert set(heatmap.rows["workload"]) == {"conv2d"}
    roofline = chart_rows(table, ChartRequest("roofline", size=256, backend=["jax:cpu"]))
    assert set(roofline.rows["size"]) == {256.0} and set(roofline.rows["backend"]) == {"jax"}
    scaling = chart_rows(table, ChartRequest("scaling", workload="matmul", backend=["jax"]))
    assert len(scaling.rows) == len(table)  # scaling_chart takes its backend filter itself
