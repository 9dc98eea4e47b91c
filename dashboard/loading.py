"""The dashboard's cached data access: the results database, its regressions, per-page work.

The database is read once per version of the results folder: `database_version` digests
`tensorbench.analysis.results.fingerprint` (every JSON file's path, mtime and size), so a new
asv run shows up on the next rerun, and `load_results` itself keeps a columnar cache beside the
folder, so a fresh dashboard process starts fast too. Everything is held with
``st.cache_resource`` (one shared object, no copy per rerun: pages must not modify what they
get); per-page work goes through `memo`, keyed on the database version and its own inputs.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from tensorbench.analysis.regressions import find_regressions
from tensorbench.analysis.results import ResultsDB, fingerprint, load_results
from tensorbench.conventions import RESULTS_DIR, RESULTS_ENV

T = TypeVar("T")


def results_dir() -> str:
    """`TENSORBENCH_RESULTS`, else the project's own `results/`."""
    return os.environ.get(RESULTS_ENV) or str(RESULTS_DIR)


@st.cache_resource(show_spinner=False, ttl=2, max_entries=4)
def database_version(directory: str) -> str:
    """A short digest of the folder's fingerprint: changes whenever a result file does (seen
    within 2 s; every widget on a page asks, and listing thousands of files takes time)."""
    return hashlib.sha1(repr(fingerprint(directory)).encode()).hexdigest()


@st.cache_resource(show_spinner="Reading asv results…", max_entries=4)
def load_db(directory: str, version: str) -> ResultsDB:
    """The database under ``directory``; ``version`` only invalidates the cache."""
    return load_results(directory)


def current_db() -> ResultsDB:
    directory = results_dir()
    return load_db(directory, database_version(directory))


@st.cache_resource(show_spinner="Looking for regressions…", max_entries=8)
def load_changes(directory: str, version: str, threshold: float) -> pd.DataFrame:
    """Regressions and improvements of the database (Mann-Whitney p-value as `significance`):
    one scan per database version and threshold, whatever the page's other widgets do."""
    db = load_db(directory, version)
    return find_regressions(db.table, threshold=threshold, results_dir=directory)


def current_changes(threshold: float) -> pd.DataFrame:
    directory = results_dir()
    return load_changes(directory, database_version(directory), threshold)


@st.cache_resource(show_spinner=False, max_entries=256)
def _memo(name: str, directory: str, version: str, inputs: tuple, _make: Callable[[], Any]) -> Any:
    return _make()


def memo(name: str, make: Callable[[], T], *inputs: Any) -> T:
    """``make()`` once per database version, machine selection and ``inputs`` (hashable): what
    a page computes from the table is not recomputed on every rerun."""
    directory = results_dir()
    machines = tuple(st.session_state.get("machines") or ())
    return _memo(name, directory, database_version(directory), (machines, *inputs), make)
