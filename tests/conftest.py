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
        ("test_runstatus.py", "altair"),
    )
    if importlib.util.find_spec(needs) is None
]


# MXNet and DGL on MXNet live in .venv-mxnet, where only the tests marked `mxnet` run.
MXNET_ENV_BACKENDS = {"mxnet", "dgl-mxnet"}


def backend_params(*names: str) -> list:
    """``names`` as pytest parameters, every one of them: those of .venv-mxnet marked
    `mxnet`, and one that does not import here an explicit skip with its reason. Leaving
    unavailable backends out instead would make a broken torch or jax install vanish from the
    run without a trace (tests/test_environment.py says which ones each environment must have).
    """
    from tensorbench.backends import BACKENDS

    params = []
    for name in names:
        marks = [pytest.mark.mxnet] if name in MXNET_ENV_BACKENDS else []
        reason = BACKENDS[name].unavailable_reason()
        if reason:
            marks.append(pytest.mark.skip(reason=f"{name}: {reason}"))
        params.append(pytest.param(name, marks=marks, id=name))
    return params


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
