"""tensorbench: the same workloads timed across array frameworks, honestly.

Python API::

    import tensorbench
    out = tensorbench.compute("matmul", "torch", size=512)   # validated, as NumPy
"""

from .cases import Case, ValidationError, compute, prepare

__version__ = "0.1.0"
__all__ = ["Case", "ValidationError", "compute", "prepare"]
