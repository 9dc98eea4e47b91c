"""Results as tables: read asv's files, find changes, compute rates and speedups.

Pure pandas/NumPy/SciPy: no framework, no workload, no Streamlit import (import-linter checks
it), so the dashboard and the `chart` / `regressions` commands load in any environment.
"""
