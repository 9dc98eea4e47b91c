"""The per-series step's models kept beside the results, so a later process reuses them.

A series' noise model and change points (`perseries.series_model`) depend only on its values
and the detector's settings and code; on a 250k-point history they are most of a scan's time
(docs/dashboard-scale.md). `find_regressions` given a results folder reads them from
``.<folder name>.tensorbench-models.npz`` beside the results cache (the same place, or the
same fallback under ``$TENSORBENCH_CACHE_DIR``), computes only the series it does not find,
and rewrites the file when it computed any. Each entry is keyed by the series' fingerprint,
which includes a digest of the detector's source (`changepoints`, `noisemodel`): a changed
detector finds nothing and starts over. numpy's format without pickles (a results folder may
come from anywhere); a file that cannot be read is ignored and rewritten. Deleting it loses
nothing.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from functools import cache
from pathlib import Path

import numpy as np

from .changepoints import Change
from .noisemodel import Noise

_MODELS = ("normal", "bimodal")
_INTS = ("start", "stop", "left", "right", "n_steps")
_FLOATS = ("shift", "low", "high", "pvalue")


@cache
def detector_digest() -> bytes:
    """A digest of the code that makes a model: the key of every entry includes it."""
    h = hashlib.blake2b(digest_size=16)
    for name in ("changepoints.py", "noisemodel.py", "perseries.py"):
        h.update((Path(__file__).with_name(name)).read_bytes())
    return h.digest()


def store_path(root: str | Path) -> Path:
    """Where the models of results folder ``root`` live (beside its results cache)."""
    from .resultcache import cache_path

    cache = cache_path(Path(root))
    name = cache.name.replace("-cache.arrow", "-models.npz")
    return cache.with_name(name if name != cache.name else f"{cache.name}.models.npz")


Model = tuple[Noise, list[Change]]


def load(path: Path) -> dict[bytes, Model]:
    """The models stored at ``path``; {} when it is absent or cannot be read."""
    try:
        with np.load(path, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files}
        return _unpack(data)
    except (OSError, ValueError, KeyError, IndexError, zipfile.BadZipFile):
        return {}


def save(path: Path, models: dict[bytes, Model]) -> None:
    """Write ``models`` to ``path`` atomically (a temporary file renamed over the old one);
    a folder that cannot be written is left as it is."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **_pack(models))
        os.replace(tmp, path)
    except OSError:
        return


def _pack(models: dict[bytes, Model]) -> dict[str, np.ndarray]:
    keys = list(models)
    noises = [models[k][0] for k in keys]
    changes = [models[k][1] for k in keys]
    flat = [c for cs in changes for c in cs]
    return {
        "keys": np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), -1),
        "sigma": np.array([n.sigma for n in noises], dtype=float),
        "floor": np.array([n.floor for n in noises], dtype=float),
        "model": np.array([_MODELS.index(n.model) for n in noises], dtype=np.int8),
        "points": np.array([n.outliers.size for n in noises], dtype=np.int64),
        "outliers": np.concatenate([n.outliers for n in noises] or [np.zeros(0, bool)]),
        "deviation": np.concatenate([n.deviation for n in noises] or [np.zeros(0)]),
        "changes": np.array([len(cs) for cs in changes], dtype=np.int64),
        **{k: np.array([getattr(c, k) for c in flat], dtype=np.int64) for k in _INTS},
        **{k: np.array([getattr(c, k) for c in flat], dtype=float) for k in _FLOATS},
    }


def _unpack(data: dict[str, np.ndarray]) -> dict[bytes, Model]:
    keys = data["keys"]
    ends = np.cumsum(data["points"])
    cuts = np.cumsum(data["changes"])
    if ends.size and (ends[-1] != data["outliers"].size or cuts[-1] != data["start"].size):
        raise ValueError("inconsistent model store")
    ints = [data[k].tolist() for k in _INTS]
    floats = [data[k].tolist() for k in _FLOATS]
    flat = [
        Change(s, e, sh, lo, hi, p, le, ri, n)
        for s, e, le, ri, n, sh, lo, hi, p in zip(*ints, *floats, strict=True)
    ]
    out: dict[bytes, Model] = {}
    for i in range(keys.shape[0]):
        a, b = (ends[i - 1] if i else 0), ends[i]
        c0, c1 = (cuts[i - 1] if i else 0), cuts[i]
        noise = Noise(
            float(data["sigma"][i]),
            data["outliers"][a:b],
            _MODELS[int(data["model"][i])],
            float(data["floor"][i]),
            data["deviation"][a:b],
        )
        out[keys[i].tobytes()] = (noise, flat[c0:c1])
    return out
