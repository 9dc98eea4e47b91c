"""The one base class of tensorbench's asv benchmarks.

Basic usage: a subclass names its grid entry and defines one-line ``time_*``/``peakmem_*``
methods calling ``self.case.run()`` (the validated callable plus the backend's synchronize).

Adding parameters: extend ``tensorbench.grid.GRID`` at the end of a list, never reorder; suites
(suites/*.toml) choose which points run, the rest skip with "not in suite X".
"""

from __future__ import annotations

from tensorbench.asv_support import setup_case


class WorkloadBenchmark:
    bench = ""
    timeout = 600
    warmup_time = 0.05
    # (min_repeat, max_repeat, max_time): enough samples for stats_ci_99 and quartiles while
    # keeping the quick suite within its 10-minute budget on 2 cores.
    repeat = (5, 10, 2.0)
    sample_time = 0.02

    def setup(self, *params):
        self.case = setup_case(self.bench, *params)
