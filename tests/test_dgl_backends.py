"""DGL binds to one framework per process: the backend not chosen must say why, without
importing dgl the wrong way. Each case runs in a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tensorbench.backends import BACKENDS
from tensorbench.cases import Case

PROBE = """
import json, sys
from tensorbench.backends import BACKENDS
first, second = sys.argv[1:3]
out = {"first_reason": BACKENDS[first].unavailable_reason(), "dgl_loaded": "dgl" in sys.modules}
out["second_reason"] = BACKENDS[second].unavailable_reason()
if out["second_reason"] is None:
    out["facts"] = BACKENDS[second].facts()
print(json.dumps(out))
"""
MXNET = BACKENDS["mxnet"].available()


def probe(first: str, second: str, dgl_backend: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DGLBACKEND"}
    if dgl_backend:
        env["DGLBACKEND"] = dgl_backend
    res = subprocess.run(
        [sys.executable, "-c", PROBE, first, second],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=300,
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(MXNET, reason="default choice without mxnet (.venv)")
def test_default_is_pytorch_without_mxnet() -> None:
    if not BACKENDS["torch"].available():
        pytest.skip("torch not installed")
    out = probe("dgl-mxnet", "dgl-torch", None)
    assert "DGL loads with the pytorch backend" in out["first_reason"]
    assert "set DGLBACKEND=mxnet" in out["first_reason"]
    assert not out["dgl_loaded"]  # asking the wrong backend imports nothing
    assert out["second_reason"] is None
    assert out["facts"]["dgl_backend"] == "pytorch" and out["facts"]["version"] == "1.1.3"
    assert out["facts"]["framework"] == "torch"


@pytest.mark.mxnet
def test_default_is_mxnet_where_mxnet_imports() -> None:
    pytest.importorskip("mxnet")
    out = probe("dgl-torch", "dgl-mxnet", None)
    assert "set DGLBACKEND=pytorch" in out["first_reason"] and not out["dgl_loaded"]
    assert out["second_reason"] is None
    assert out["facts"]["dgl_backend"] == "mxnet" and out["facts"]["framework"] == "mxnet"
    assert out["facts"]["framework_version"] == "1.9.1"


def test_dglbackend_variable_wins() -> None:
    out = probe("dgl-torch", "dgl-mxnet", "mxnet")
    assert "with the mxnet backend" in out["first_reason"] and not out["dgl_loaded"]
    if not MXNET:  # mxnet missing: the chosen DGL backend says so, and still imports nothing
        assert "mxnet not installed" in out["second_reason"]


def test_once_loaded_the_other_backend_reports_it() -> None:
    if MXNET:
        first, other, setting = "dgl-mxnet", "dgl-torch", "pytorch"
    else:
        first, other, setting = "dgl-torch", "dgl-mxnet", "mxnet"
    if not BACKENDS[first].available():
        pytest.skip(f"{first} not available")
    reason = BACKENDS[other].unavailable_reason()
    assert reason.startswith("DGL is loaded with the") and f"DGLBACKEND={setting}" in reason


def test_array_workloads_skip_for_dgl_with_a_reason() -> None:
    assert Case("matmul", "dgl-torch").skip_reason() == "dgl-torch has no matmul implementation"
    assert Case("mlp_step", "dgl-mxnet").skip_reason() == "dgl-mxnet has no mlp_step implementation"
