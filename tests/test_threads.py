"""One thread setting reaches every framework (run in a subprocess: it pins the process)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("torch")  # the setting must reach torch where torch is installed

PROBE = """
import json, sys
from tensorbench import threads
from tensorbench.cases import Case, prepare
threads.set_threads(1)
prepare(Case("matmul", "numpy", "cpu", "float32", 64))
out = {"blas": [p["num_threads"] for p in __import__("threadpoolctl").threadpool_info()
                if p["user_api"] == "blas"]}
prepare(Case("matmul", "torch", "cpu", "float32", 64))  # a failure here fails the test
import torch
out["torch"] = torch.get_num_threads()
import os
out["affinity"] = len(os.sched_getaffinity(0))
print(json.dumps(out))
"""


def test_set_threads_applies_to_blas_torch_and_affinity() -> None:
    res = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["blas"] and all(n == 1 for n in out["blas"])
    assert out["torch"] == 1
    assert out["affinity"] == 1
