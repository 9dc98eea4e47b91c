"""Shared fixtures. Real data lives in ../shared/data beside the checkout; tests using it skip
where it is absent (it is never copied into the repository)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import pytest

from tensorbench.testing import write_synthetic_results

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
TEST_OUTPUT = REPO / "test-output"  # screenshots and other artefacts tests leave for people

# The dashboard and report extras (streamlit, altair) live in .venv only; .venv-mxnet has neither.
collect_ignore = [
    name
    for name, needs in (
        ("test_charts.py", "altair"),
        ("test_dashboard_apptest.py", "streamlit"),
        ("test_dashboard_browser.py", "streamlit"),
        ("test_report.py", "altair"),
        ("test_report_browser.py", "altair"),
        ("test_regressions_dashboard.py", "streamlit"),
    )
    if importlib.util.find_spec(needs) is None
]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, or skip the test where it is not present."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not present at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def synthetic_results(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Write a synthetic tensorbench-shaped asv database: ``synthetic_results(**options)``.

    Options are :func:`tensorbench.testing.write_synthetic_results`'s; each call writes a new
    database in its own temporary folder and returns its path.
    """

    def make(**options) -> Path:
        return write_synthetic_results(tmp_path_factory.mktemp("synthetic") / "results", **options)

    return make


@pytest.fixture(scope="session")
def test_output() -> Path:
    TEST_OUTPUT.mkdir(exist_ok=True)
    return TEST_OUTPUT
