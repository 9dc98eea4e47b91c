"""tensorbench.analysis.rowschema: the parsed rows are typed once, and the reader, the cache and
the table all keep to it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tensorbench.analysis import asvformat, resultcache
from tensorbench.analysis.results import COLUMNS, load_results
from tensorbench.analysis.rowschema import FILE, ROW_ARRAYS, dtype, empty_rows
from tensorbench.testing import write_asv_shaped_results


def test_parsed_rows_have_the_schema_s_arrays_and_dtypes(tmp_path: Path) -> None:
    root = write_asv_shaped_results(tmp_path / "results", commits=12, benchmarks=8)
    ctx = asvformat.ReadContext(benchmarks={}, versions={})
    path = next(p for p in sorted(root.glob("*/*-*.json")))
    arrays = asvformat.parse_result_file(str(path), "m", ctx).arrays
    assert set(arrays) == set(ROW_ARRAYS)
    for name, array in arrays.items():
        assert array.dtype == np.dtype(dtype(name)), name
    assert len({len(a) for a in arrays.values()}) == 1


def test_the_cache_restores_the_schema(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    root = write_asv_shaped_results(tmp_path / "results", commits=12, benchmarks=8)
    load_results(root)  # writes the cache
    cached = resultcache.read_cache(resultcache.cache_path(root), root)
    assert cached is not None
    assert set(cached.arrays) == {*ROW_ARRAYS, FILE}
    for name, array in cached.arrays.items():
        assert array.dtype == np.dtype(dtype(name)), name
    samples = [s for s in cached.arrays["samples"] if s is not None]
    assert all(isinstance(s, tuple) for s in samples)
    texts = [v for v in cached.arrays["version"] if v is not None]
    assert texts and all(isinstance(v, str) for v in texts)


def test_empty_rows_and_the_table_columns() -> None:
    empty = empty_rows()
    assert set(empty) == {*ROW_ARRAYS, FILE}
    assert all(len(a) == 0 and a.dtype == np.dtype(dtype(n)) for n, a in empty.items())
    # every row array is a table column, except those the table derives columns from
    assert set(ROW_ARRAYS) - set(COLUMNS) == {"combo", "version"}
