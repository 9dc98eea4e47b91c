"""Shared fixtures. Real data lives in ../shared/data beside the checkout; tests using it skip
where it is absent (it is never copied into the repository)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
TEST_OUTPUT = REPO / "test-output"  # screenshots and other artefacts tests leave for people


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, or skip the test where it is not present."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not present at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def test_output() -> Path:
    TEST_OUTPUT.mkdir(exist_ok=True)
    return TEST_OUTPUT
