"""Measure the regression detector against asv's on histories with known truth.

The engine of ``scripts/eval_regressions.py``, kept here so that it is imported and tested
rather than run only as a script:

- :mod:`.synthetic`: seeded step histories (per-sample noise, slow runs, creeps) as cells;
- :mod:`.asvdb`: those cells written as a real asv results database;
- :mod:`.asvdetector`: asv's own step detection (``asv.step_detect``), one wrapper, one error
  policy, and the one conversion of 99 % intervals to asv's weights;
- :mod:`.scoring`: hits, misses and false alarms against the truth, precision/recall/F1;
- :mod:`.scenarios`: per-commit histories that look like CI faults (outliers, a machine
  change, bimodal series, missing commits, broken values), scored the same way;
- :mod:`.multienv` and :mod:`.crossenv`: a synthetic multi-machine history, and whether a
  flagged regression is seen by the other environments that ran its commits.

Nothing here is imported by the package's other modules: it measures them.
"""
