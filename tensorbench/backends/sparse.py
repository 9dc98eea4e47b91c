"""SciPy CSR matrices as each framework's sparse matrix (what graph workloads multiply by).

Conversions only: which matrix to build is the workload's business.
"""

from __future__ import annotations

import warnings
from typing import Any

import scipy.sparse as sp

MXNET_MAX_ELEMENTS = 2**31 - 2  # MXNet 1.9.1 (no INT64_TENSOR_SIZE) rejects larger shapes


def torch_csr(torch: Any, m: sp.csr_matrix, device: str) -> Any:
    """A torch sparse CSR tensor of ``m``; keeps scipy's int32 indices (several times faster
    than int64 in torch's CPU kernels)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
        return torch.sparse_csr_tensor(
            torch.from_numpy(m.indptr.copy()),
            torch.from_numpy(m.indices.copy()),
            torch.from_numpy(m.data.copy()),
            size=m.shape,
            device=device,
        )


def mxnet_csr_blocks(mx: Any, m: sp.csr_matrix, ctx: Any) -> list[Any]:
    """``m`` as ``mx.nd.sparse`` CSR row blocks: MXNet 1.9.1 refuses any array whose *shape*
    has 2**31 elements or more, sparse included, so a 2**16-node graph needs blocks."""
    rows = max(1, MXNET_MAX_ELEMENTS // max(m.shape[1], 1))
    blocks = []
    for start in range(0, m.shape[0], rows):
        b = m[start : start + rows]
        blocks.append(
            mx.nd.sparse.csr_matrix(
                (b.data, b.indices, b.indptr), shape=b.shape, dtype=m.dtype, ctx=ctx
            )
        )
    return blocks
