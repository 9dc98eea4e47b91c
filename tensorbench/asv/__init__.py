"""asv integration: the parameter grid, suites, what benchmark processes call (`points`), the
per-environment probe, asv runs, result files, the machine entry and the per-commit compare gate.

benchmarks/ reaches `points` through `tensorbench/asv_support.py` (beside this package), a
re-export kept at that path because asv runs today's benchmarks against historic commits that
have only it. Imports here are absolute, so ``import asv`` inside this package still means the
asv package.
"""
