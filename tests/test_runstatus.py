"""tensorbench.analysis.runstatus and the Overview's charts drawn from it: what ran per commit,
why the rest was skipped, and the speedup heatmap's layout (one machine under the other, labels
that fit a column)."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from tensorbench import charts
from tensorbench.analysis.results import load_results
from tensorbench.analysis.runstatus import NO_REASON, skip_reasons, status_per_commit


def rows(*specs: tuple[int, str, str | None]) -> pd.DataFrame:
    """A results table's status columns: (commit_order, status, reason) per row."""
    return pd.DataFrame(
        {
            "commit_order": [s[0] for s in specs],
            "commit": [f"c{s[0]}" * 4 for s in specs],
            "commit_date": pd.to_datetime([f"2025-01-0{s[0] + 1}" for s in specs], utc=True),
            "status": [s[1] for s in specs],
            "reason": [s[2] for s in specs],
        }
    )


TABLE = rows(
    (0, "ok", None),
    (0, "skipped", "torch built without CUDA"),
    (0, "skipped", "torch built without CUDA"),
    (0, "skipped", None),
    (1, "ok", None),
    (1, "ok", None),
    (1, "failed", None),
    (1, "skipped", "no GPU"),
    (1, "skipped", "mxnet not installed"),
    (1, "skipped", "jax not installed"),
)


def test_skip_reasons_most_frequent_first_with_the_rest_in_one_row() -> None:
    found = skip_reasons(TABLE, top=2)
    assert found["reason"].tolist() == ["torch built without CUDA", "jax not installed",
                                        "3 other reasons"]  # fmt: skip
    assert found["n"].tolist() == [2, 1, 3]
    assert found["share"].sum() == pytest.approx(1.0)
    every = skip_reasons(TABLE, top=10)
    assert NO_REASON in set(every["reason"])  # a skip without a recorded reason is named so
    assert len(every) == 5 and every["n"].sum() == 6


def test_nothing_skipped_gives_no_reasons() -> None:
    ran = TABLE[TABLE["status"] != "skipped"]
    assert skip_reasons(ran).empty
    assert status_per_commit(ran)["reasons"].tolist() == ["", ""]


def test_status_per_commit_counts_and_names_the_reasons() -> None:
    per = status_per_commit(TABLE, top=1)
    assert per[["commit_order", "ok", "failed", "skipped"]].values.tolist() == [
        [0, 1, 0, 3],
        [1, 2, 1, 3],
    ]
    assert per.loc[0, "reasons"] == "2: torch built without CUDA; 1: 1 other reason"
    assert per.loc[1, "reasons"] == "1: jax not installed; 2: 2 other reasons"  # ties: by name
    assert status_per_commit(TABLE.iloc[:0]).empty


def spec_values(chart) -> list[list[dict]]:
    """Every inline data set of a chart's spec, in spec order."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            data = node.get("data")
            if isinstance(data, dict) and isinstance(data.get("values"), list):
                found.append(data["values"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(chart.to_dict())
    return found


def test_status_chart_bars_what_ran_and_counts_skips_apart() -> None:
    chart = charts.status_chart(TABLE)
    bars, strip = spec_values(chart)
    assert {(v["order"], v["status"]): v["n"] for v in bars} == {
        (0, "ok"): 1,
        (0, "failed"): 0,
        (1, "ok"): 2,
        (1, "failed"): 1,
    }  # no skipped bar stacked on what ran
    assert [(v["order"], v["skipped"]) for v in strip] == [(0, 3), (1, 3)]
    assert "torch built without CUDA" in strip[0]["reasons"]


@pytest.fixture(scope="module")
def two_machines(synthetic_results) -> pd.DataFrame:
    path = synthetic_results(commits=3, sizes=(64,), machines=("laptop", "desktop"))
    return load_results(path).table


def test_heatmap_stacks_machines_with_two_line_labels(two_machines: pd.DataFrame) -> None:
    chart = charts.heatmap_chart(two_machines)
    spec = chart.to_dict()
    assert "vconcat" in spec and "hconcat" not in json.dumps(spec)
    titles = [panel["title"] for panel in spec["vconcat"]]
    assert titles == ["desktop", "laptop"]
    axis = spec["vconcat"][0]["layer"][0]["encoding"]["x"]["axis"]
    assert "split(datum.label, ':')" in axis["labelExpr"] and axis["labelAngle"] == 0
    one = charts.heatmap_chart(two_machines, machine="laptop").to_dict()
    assert one["title"] == "speedup over numpy:cpu · laptop"


def test_heatmap_slants_the_labels_of_many_columns(two_machines: pd.DataFrame) -> None:
    torch = two_machines[two_machines["backend"] == "torch"]
    twins = [
        torch.assign(
            backend=f"framework{i}",
            param_key=torch["param_key"].astype(str).str.replace("torch", f"framework{i}"),
            value=torch["value"] * (1 + i / 10),
        )
        for i in range(charts.figures.HEATMAP_FLAT_COLUMNS)
    ]
    chart = charts.heatmap_chart(pd.concat([two_machines, *twins]), machine="laptop")
    axis = chart.to_dict()["layer"][0]["encoding"]["x"]["axis"]
    assert not math.isclose(axis["labelAngle"], 0)
