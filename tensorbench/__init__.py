"""tensorbench: the same workloads timed across array frameworks, honestly.

Python API::

    import tensorbench
    out = tensorbench.compute("matmul", "torch", size=512)   # validated, as NumPy

Imports are lazy: the dashboard's reader (``tensorbench.analysis.results``) must not load every
workload and backend module.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["Case", "ValidationError", "compute", "prepare"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import cases

        return getattr(cases, name)
    raise AttributeError(f"module 'tensorbench' has no attribute {name!r}")
