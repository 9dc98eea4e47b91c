"""Which results a chart draws: the filters each chart kind takes, the names checked against
the table, and the rows handed to the chart function, or the reason nothing matches.

`tensorbench chart` parses its options into a :class:`ChartRequest` (which refuses a filter
its kind would silently ignore), calls :func:`chart_rows` and draws what comes back; the
choices live here so that they are tested without a command line. Basic usage::

    request = ChartRequest("history", workload="matmul", backend=["numpy:cpu"], size=1024)
    picked = chart_rows(load_results("results").table, request)  # InputError: why not
    history_chart(picked.rows, benchmark=picked.benchmark, ...)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import pandas as pd

from ..errors import InputError
from .rates import select

CHART_KINDS = ("compare", "scaling", "history", "heatmap", "roofline")

# The filters each chart kind uses; any other one given would be silently ignored: refused.
CHART_FILTERS = {
    "compare": {"workload", "backend", "size", "dtype", "device", "machine"},
    "scaling": {"workload", "backend", "dtype", "device", "machine"},
    "heatmap": {"workload", "dtype", "device", "machine"},
    "history": {"workload", "backend", "size", "dtype", "device", "machine", "benchmark"},
    "roofline": {"workload", "backend", "size", "dtype", "device", "machine"},
}


@dataclass(frozen=True)
class ChartRequest:
    """A chart kind and its filters (None: not given). ``backend`` takes "torch" or
    "torch:cpu"; the list-valued filters accept several values.

    Raises :class:`InputError` for an unknown kind or a filter the kind does not use.
    """

    kind: str
    workload: str | None = None
    backend: Sequence[str] | None = None
    size: float | None = None
    dtype: str | None = None
    device: Sequence[str] | None = None
    machine: Sequence[str] | None = None
    benchmark: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in CHART_FILTERS:
            raise InputError(f"unknown chart {self.kind!r} (valid: {', '.join(CHART_KINDS)})")
        used = CHART_FILTERS[self.kind]
        for name in sorted(set().union(*CHART_FILTERS.values()) - used):
            if getattr(self, name) is not None:
                valid = ", ".join(f"--{o}" for o in sorted(used))
                raise InputError(f"chart {self.kind} takes no --{name} (its filters: {valid})")

    def filters(self) -> dict[str, object]:
        """The filters given, by name (for :func:`.rates.select`)."""
        given = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "kind"}
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in given.items()}


@dataclass(frozen=True)
class ChartRows:
    """What a chart draws: ``rows`` (the chart function applies the request's remaining
    filters itself); for a history, the one ``benchmark`` drawn and ``series``, every result
    of that benchmark (where the regression search looks, failed runs included)."""

    rows: pd.DataFrame
    benchmark: str | None = None
    series: pd.DataFrame | None = None


def _check_names(kind: str, given: object, present: list[str]) -> None:
    values = list(given) if isinstance(given, (list, tuple)) else [given]
    for v in values:
        if v is not None and v not in present:
            valid = ", ".join(present) or "none in these results"
            raise InputError(f"unknown {kind} {v!r} (valid: {valid})")


def _check_known(table: pd.DataFrame, request: ChartRequest) -> None:
    """Every name given exists in ``table`` (else the valid ones are named)."""

    def present(col: str) -> list[str]:
        return sorted(str(v) for v in table[col].dropna().unique())

    for col in ("workload", "machine", "dtype", "device"):
        _check_names(col, getattr(request, col), present(col))
    labels = present("backend") + sorted(
        {f"{b}:{d}" for b, d in zip(table["backend"], table["device"], strict=True) if b == b}
    )
    _check_names("backend", request.backend, labels)
    if request.benchmark is not None:
        _check_names("benchmark", request.benchmark, present("benchmark"))
    if request.kind in ("compare", "scaling") and request.workload is None:
        raise InputError(
            f"chart {request.kind} needs --workload (valid: {', '.join(present('workload'))})"
        )


def _check_size(table: pd.DataFrame, request: ChartRequest) -> None:
    """A size given must be one the chosen results were measured at (named when it is not)."""
    if request.size is None:
        return
    rows = select(table, **{**request.filters(), "size": None}, status="ok")
    sizes = sorted({float(v) for v in rows["size"].dropna()})
    if float(request.size) not in sizes:
        named = request.workload or request.benchmark
        what = f"{named} results" if named else "results"
        valid = ", ".join(f"{v:g}" for v in sizes) or "none"
        raise InputError(f"--size {request.size:g}: no {what} at that size (sizes: {valid})")


def _history_rows(table: pd.DataFrame, request: ChartRequest) -> ChartRows:
    """One benchmark's results under the filters: its thread-scaling twin only when named."""
    rows = select(table, **request.filters())
    rows = rows[rows["status"] == "ok"]
    benchmarks = sorted(str(b) for b in rows["benchmark"].unique())
    if not benchmarks:
        raise InputError("no results match these filters")
    if len(benchmarks) > 1:
        plain = sorted(str(b) for b in rows.loc[rows["threads"].isna(), "benchmark"].unique())
        benchmarks = plain if len(plain) == 1 else benchmarks
    if len(benchmarks) > 1:
        raise InputError(
            f"several benchmarks match; choose one with --benchmark: {', '.join(benchmarks)}"
        )
    name = benchmarks[0]
    return ChartRows(rows[rows["benchmark"] == name], name, table[table["benchmark"] == name])


def chart_rows(table: pd.DataFrame, request: ChartRequest) -> ChartRows:
    """The rows ``request``'s chart draws from ``table`` (the results table).

    Raises :class:`InputError` saying why nothing can be drawn: a name the table does not
    hold (with the valid ones), a missing workload, a size not measured, or, for a history,
    no benchmark or several matching the filters.
    """
    _check_known(table, request)
    _check_size(table, request)
    if request.kind == "history":
        return _history_rows(table, request)
    if request.kind == "compare":
        return ChartRows(select(table, backend=request.backend))
    if request.kind == "roofline":
        return ChartRows(
            select(table, backend=request.backend, device=request.device, size=request.size)
        )
    if request.kind == "heatmap" and request.workload:
        return ChartRows(select(table, workload=request.workload))
    return ChartRows(table)
