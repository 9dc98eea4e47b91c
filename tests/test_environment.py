"""Each of the project's environments has the frameworks it is built with.

The backend tests skip, with the reason, a framework that does not import; here a framework
missing from the environment that scripts/setup_envs.sh builds it into is a failure, so a
broken torch or jax install cannot pass as a run of skips.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tensorbench.backends import BACKENDS

ENVIRONMENT = Path(sys.prefix).name
# What scripts/setup_envs.sh installs into each (CuPy only where a GPU is present).
MAIN = ("numpy", "torch", "jax", "dgl-torch", "pyg", "paddle")
MXNET = ("numpy", "torch", "mxnet", "dgl-mxnet")


def missing(names: tuple[str, ...]) -> dict[str, str | None]:
    return {n: BACKENDS[n].unavailable_reason() for n in names if not BACKENDS[n].available()}


def test_main_environment_imports_its_frameworks() -> None:
    if ENVIRONMENT != ".venv":
        pytest.skip(f"checks the project's .venv (this is {sys.prefix})")
    assert missing(MAIN) == {}


@pytest.mark.mxnet
def test_mxnet_environment_imports_its_frameworks() -> None:
    if ENVIRONMENT != ".venv-mxnet":
        pytest.skip(f"checks the project's .venv-mxnet (this is {sys.prefix})")
    assert missing(MXNET) == {}
