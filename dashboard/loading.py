"""The dashboard's cached data access: one cached read of the results directory.

The cache is keyed on the directory and `tensorbench.analysis.results.fingerprint` (every JSON file's
path, mtime and size), so a new asv run shows up on the next rerun. Filters run outside the
cache on the returned table.
"""

from __future__ import annotations

import os

import pandas as pd
import streamlit as st

from tensorbench.analysis.changes import find_changes
from tensorbench.analysis.results import ResultsDB, fingerprint, load_results
from tensorbench.paths import RESULTS_DIR, RESULTS_ENV


def results_dir() -> str:
    """`TENSORBENCH_RESULTS`, else the project's own `results/`."""
    return os.environ.get(RESULTS_ENV) or str(RESULTS_DIR)


@st.cache_data(show_spinner="Reading asv results…", max_entries=4)
def load_db(directory: str, key: tuple) -> ResultsDB:
    """The database under ``directory``; ``key`` (its fingerprint) only invalidates the cache."""
    return load_results(directory)


def current_db() -> ResultsDB:
    directory = results_dir()
    return load_db(directory, fingerprint(directory))


@st.cache_data(show_spinner="Looking for regressions…", max_entries=8)
def load_changes(directory: str, key: tuple, threshold: float) -> pd.DataFrame:
    """Regressions and improvements of the database (Mann-Whitney p-value as `significance`)."""
    db = load_db(directory, key)
    return find_changes(db.table, threshold=threshold, results_dir=directory)


def current_changes(threshold: float) -> pd.DataFrame:
    directory = results_dir()
    return load_changes(directory, fingerprint(directory), threshold)
