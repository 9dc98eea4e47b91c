"""Framework releases as an axis: which release is fastest, and which step between two releases
changed a workload.

A release run times the suite at one commit in one environment per release of a framework
(torch 2.11, 2.12, ...); every result file records the versions it ran with (asv's
``requirements`` and tensorbench's own facts, `results.framework_versions`). Here those
environments become an ordered axis, per machine and commit: the series of one point (benchmark
and parameters) over the releases of one framework, ordered by version (2.10 after 2.9,
pre-releases before their release: PEP 440 via ``packaging``, as pip orders them).

A change between consecutive releases is the ratio of the two values with an interval: each
value carries asv's 99 % interval (with tensorbench's between-process part where the file has
it), and the log ratio's half-width is the two half-widths added in quadrature. Those
intervals hold one process's samples only: the environments run one after another, minutes
apart, and on a shared VM two unpaired runs differ by far more than their intervals say
(the NumPy points, which no torch release touches, moved by up to +129 % between two torch
environments here). So each run's *noise floor* is measured from its control points
(`noise_floor`: points whose own framework did not change between the two environments) and
a step of a framework's own points counts (fails the gate) only when it is beyond the threshold, beyond
that floor, and its interval excludes 1; a step within the floor is listed as such and needs
the paired comparison (`compare --paired --python-a A --python-b B`) to be told from noise. What else differed
between the two environments (another framework's version) is listed with the change.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from packaging.version import InvalidVersion, Version

from ..errors import InputError
from .results import framework_versions

__all__ = [
    "ReleaseChange",
    "ReleaseSet",
    "env_versions",
    "is_release_env",
    "noise_floor",
    "own_rows",
    "parse_releases",
    "point_label",
    "release_axis",
    "release_changes",
    "sort_versions",
    "version_key",
]

# Frameworks a release axis can vary (the pip name: what `pip install NAME==VERSION` takes).
FRAMEWORKS = ("torch", "numpy", "jax", "scipy", "dgl", "mxnet")
NOISE_QUANTILE = 0.95  # of the control points' moves: what unpaired release runs cannot resolve
MIN_CONTROLS = 5


@dataclass(frozen=True)
class ReleaseSet:
    """One framework and the releases to run it at, in version order."""

    framework: str
    versions: tuple[str, ...]

    def requirement(self, version: str) -> str:
        """The pip requirement of one release: ``torch==2.12``."""
        return f"{self.framework}=={version}"


def version_key(version: str) -> Version:
    """The ordering key of a release (PEP 440); an unreadable one is bad input naming it."""
    try:
        return Version(str(version).strip())
    except InvalidVersion:
        raise InputError(
            f"{version!r} is not a release version (e.g. 2.12, 1.26.4, 2.0.0rc1)"
        ) from None


def sort_versions(versions: Iterable[str]) -> list[str]:
    """Versions in release order: 2.9 < 2.10, 2.0.0rc1 < 2.0.0; duplicates (2.1 = 2.1.0) once."""
    seen: dict[Version, str] = {}
    for v in versions:
        seen.setdefault(version_key(v), str(v).strip())
    return [seen[k] for k in sorted(seen)]


def parse_releases(texts: Sequence[str]) -> list[ReleaseSet]:
    """``["torch=2.11,2.12", "numpy=1.26,2.1"]`` -> one `ReleaseSet` per framework.

    Several frameworks form a list, not a product: each is varied alone, the others staying as
    the base environment has them (a product of 4 torch x 3 NumPy releases would be 12
    environments, most of which no user runs).
    """
    sets: dict[str, ReleaseSet] = {}
    for text in texts:
        name, sep, rest = str(text).partition("=")
        name = name.strip().lower()
        if not sep or not name or not rest.strip():
            raise InputError(
                f"--releases {text!r}: expected FRAMEWORK=V1,V2 (e.g. torch=2.11,2.12)"
            )
        if name not in FRAMEWORKS:
            raise InputError(
                f"--releases {text!r}: unknown framework {name!r} (one of {', '.join(FRAMEWORKS)})"
            )
        if name in sets:
            raise InputError(f"--releases names {name} twice")
        versions = sort_versions(v for v in rest.split(",") if v.strip())
        if len(versions) < 2:
            raise InputError(f"--releases {text!r}: give at least two releases to compare")
        sets[name] = ReleaseSet(name, tuple(versions))
    return list(sets.values())


def env_versions(envs: pd.DataFrame) -> pd.DataFrame:
    """`results.framework_versions` of ``envs`` plus the libraries a backend's facts name
    beside its own version (SciPy's, in the NumPy backend's facts): the release axis of SciPy."""
    versions = framework_versions(envs)
    extra = []
    for env in envs.itertuples(index=False):
        ours = getattr(env, "tensorbench", None)
        facts = ours.get("facts") if isinstance(ours, dict) else None
        if isinstance(facts, dict) and isinstance(facts.get("backends"), dict):
            facts = facts["backends"]
        for fw in facts.values() if isinstance(facts, dict) else ():
            for name, value in fw.items() if isinstance(fw, dict) else ():
                if name in FRAMEWORKS and isinstance(value, str):
                    extra.append(
                        {
                            "machine": env.machine,
                            "env": env.env,
                            "package": name,
                            "version": value,
                            "source": "tensorbench facts",
                        }
                    )
    if not extra:
        return versions
    return pd.concat([versions, pd.DataFrame(extra)], ignore_index=True)


def _env_versions(versions: pd.DataFrame) -> dict[tuple[str, str], dict[str, str]]:
    """(machine, env) -> {package: version}; tensorbench's facts win over asv's pins (they are
    what imported, where a pin may be empty)."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    if versions.empty:
        return out
    ordered = versions.assign(_rank=(versions["source"] == "tensorbench facts").astype(int))
    for row in ordered.sort_values("_rank").itertuples(index=False):
        pkgs = out.setdefault((row.machine, row.env), {})
        if row.version != "(unpinned)" or row.package not in pkgs:
            pkgs[row.package] = row.version
    return out


def is_release_env(env: str, framework: str) -> bool:
    """Whether the environment named ``env`` is one of ``framework``'s release environments:
    its name ends in ``FRAMEWORK-VERSION`` (``existing-torch-2.12.0``, as `run --releases`
    names them)."""
    m = re.search(rf"(?:^|-){re.escape(framework)}-([^-]+)$", str(env))
    if m is None:
        return False
    try:
        version_key(m.group(1))
    except InputError:
        return False
    return True


def release_axis(table: pd.DataFrame, versions: pd.DataFrame, framework: str) -> pd.DataFrame:
    """The ok timing rows of ``framework``'s release environments, with a ``release`` column
    (the version its interpreter imported), ordered by machine, commit, benchmark, parameters
    and release.

    ``versions`` is `env_versions` of the database's envs. A release environment is one that
    `run --releases` made for this framework (named ``...FRAMEWORK-VERSION``,
    `is_release_env`): the project's own environments differ in many packages at once (.venv
    and .venv-mxnet: NumPy, SciPy and MXNet), which no release step explains. Environments
    whose version is not a release version (a local build, "(unpinned)") are left out.
    """
    env_versions = _env_versions(versions)
    release: dict[tuple[str, str], str] = {}
    for key, pkgs in env_versions.items():
        v = pkgs.get(framework)
        if v is None or not is_release_env(key[1], framework):
            continue
        try:
            version_key(v)
        except InputError:
            continue
        release[key] = v
    cols = [*table.columns, "release"]
    if table.empty or not release:
        return pd.DataFrame(columns=cols)
    rows = table[(table["status"] == "ok") & (table["kind"] == "time")]
    keys = list(zip(rows["machine"].astype(str), rows["env"].astype(str), strict=True))
    rows = rows.assign(release=[release.get(k) for k in keys])
    rows = rows[rows["release"].notna()]
    rows = rows.assign(_order=[version_key(v) for v in rows["release"]])
    rows = rows.sort_values(
        ["machine", "commit", "benchmark", "param_key", "_order"], kind="stable"
    )
    return rows.drop(columns="_order").reset_index(drop=True)


@dataclass(frozen=True)
class ReleaseChange:
    """One step between consecutive releases of a framework, for one point."""

    framework: str
    before: str
    after: str
    machine: str
    commit: str
    benchmark: str
    param_key: str
    label: str  # "conv2d 32 float32 eager" style: what the point is
    ratio: float  # after / before; > 1: the newer release is slower
    low: float
    high: float
    also_changed: tuple[str, ...] = field(default=())  # "numpy 2.1.0 -> 2.2.0", ...
    floor: float = 0.0  # the run's noise floor (`noise_floor`) as a relative move, 0.3 = 30 %
    params: dict = field(default_factory=dict)  # the point's parameters by name
    before_env: str = ""  # the two environments' labels (``torch-2.12.0``)
    after_env: str = ""

    @property
    def beyond_floor(self) -> bool:
        """Whether the step is larger than the run's control points moved (see the module)."""
        return abs(math.log(self.ratio)) > math.log1p(self.floor)

    @property
    def slower(self) -> bool:
        return self.ratio > 1

    def describe(self) -> str:
        """``torch 2.14 -> 2.15: conv2d 32 float32 eager +12 % [8, 16]``."""
        pct = (self.ratio - 1) * 100
        lo, hi = (self.low - 1) * 100, (self.high - 1) * 100
        text = (
            f"{self.framework} {self.before} -> {self.after}: {self.label} {pct:+.0f} % "
            f"[{lo:+.0f}, {hi:+.0f}]"
        )
        if self.also_changed:
            text += f" (also changed: {', '.join(self.also_changed)})"
        return text


def _half_width(value: float, low: float, high: float) -> float:
    """Half the log width of a value's interval; NaN when the file recorded none usable."""
    if not (low > 0 and high > 0 and high >= low and value > 0):
        return math.nan
    return (math.log(high) - math.log(low)) / 2


def _present(value: object) -> bool:
    return value is not None and str(value) not in ("", "nan", "None")


def point_label(row: dict) -> str:
    """``conv2d torch:cpu 32 float32 eager``: workload, backend:device, size, dtype, mode."""
    parts = [str(row.get("workload") or row["benchmark"])]
    backend, device = row.get("backend"), row.get("device")
    if _present(backend):
        parts.append(f"{backend}:{device}" if _present(device) else str(backend))
    size = row.get("size")
    if _present(size):
        parts.append(str(int(size)) if isinstance(size, float) and size.is_integer() else str(size))
    parts += [str(row[k]) for k in ("dtype", "mode") if _present(row.get(k))]
    return " ".join(parts)


SERIES = ["machine", "commit", "benchmark", "param_key"]


def _steps(axis: pd.DataFrame) -> Iterator[tuple[dict, dict]]:
    """Consecutive releases of each series (machine, commit, benchmark, parameters), in the
    axis's order: the last row of each release, one pass over the records (a groupby with a
    frame per series took 0.6 s of the Releases page's first visit on 31k rows)."""
    last = axis.drop_duplicates([*SERIES, "release"], keep="last")
    prev: dict[tuple, dict] = {}
    for row in last.to_dict("records"):
        key = tuple(row[c] for c in SERIES)
        if key in prev:
            yield prev[key], row
        prev[key] = row


def _belongs(backend: object, framework: str) -> bool:
    """Whether a backend runs on ``framework`` (dgl-torch on torch; NumPy's points on SciPy)."""
    name = str(backend).lower()
    return framework in name or (framework == "scipy" and name.startswith("numpy"))


def noise_floor(
    table: pd.DataFrame, versions: pd.DataFrame, quantile: float = NOISE_QUANTILE
) -> dict[tuple[str, str], tuple[float, int]]:
    """Per (machine, commit): how far the *control* points moved between consecutive release
    environments, as the ``quantile`` of their absolute log ratios, and how many there were.

    A control point is one whose own framework did not change between the two environments
    (NumPy's points across torch or JAX releases, with the same NumPy): whatever it moved is
    the host's and the process's luck between two unpaired runs minutes apart, and a release
    step of the same size cannot be told from it. Fewer than ``MIN_CONTROLS`` controls: none.
    """
    env_versions = _env_versions(versions)
    moved: dict[tuple[str, str], list[float]] = {}
    for fw in FRAMEWORKS:
        for a, b in _steps(release_axis(table, versions, fw)):
            if _belongs(b["backend"], fw) or not (a["value"] > 0 and b["value"] > 0):
                continue
            package = str(b["backend"]).split("-")[0].split(":")[0]
            before = env_versions.get((str(a["machine"]), str(a["env"])), {}).get(package)
            after = env_versions.get((str(b["machine"]), str(b["env"])), {}).get(package)
            if before is None or before != after:
                continue
            key = (str(a["machine"]), str(a["commit"]))
            moved.setdefault(key, []).append(abs(math.log(b["value"] / a["value"])))
    return {
        k: (float(np.quantile(v, quantile)), len(v))
        for k, v in moved.items()
        if len(v) >= MIN_CONTROLS
    }


def release_changes(
    table: pd.DataFrame,
    versions: pd.DataFrame,
    framework: str,
    threshold: float = 0.05,
    floors: dict[tuple[str, str], tuple[float, int]] | None = None,
) -> list[ReleaseChange]:
    """Every change of ``framework``'s own points between consecutive releases beyond
    ``threshold`` whose interval excludes 1: those beyond the run's `noise_floor` first
    (`ReleaseChange.beyond_floor`), largest first within each.

    A point missing at a release (skipped, failed) is compared across the gap: its neighbours
    on the axis are the releases that ran it. Where a value has no interval the change is not
    flagged (nothing says it is more than noise). ``floors`` defaults to `noise_floor` of the
    same table.
    """
    axis = own_rows(release_axis(table, versions, framework), framework)
    if axis.empty:
        return []
    floors = noise_floor(table, versions) if floors is None else floors
    env_versions = _env_versions(versions)
    out: list[ReleaseChange] = []
    for a, b in _steps(axis):
        floor = floors.get((str(a["machine"]), str(a["commit"])), (0.0, 0))[0]
        change = _step(a, b, framework, env_versions, math.log1p(threshold))
        if change is not None:
            out.append(replace(change, floor=math.expm1(floor)))
    out.sort(key=lambda c: (not c.beyond_floor, -abs(math.log(c.ratio))))
    return out


def _step(
    a: dict,
    b: dict,
    framework: str,
    env_versions: dict[tuple[str, str], dict[str, str]],
    min_log: float,
) -> ReleaseChange | None:
    va, vb = float(a["value"]), float(b["value"])
    ha = _half_width(va, float(a["ci_low"]), float(a["ci_high"]))
    hb = _half_width(vb, float(b["ci_low"]), float(b["ci_high"]))
    if not (va > 0 and vb > 0) or math.isnan(ha) or math.isnan(hb):
        return None
    log_ratio = math.log(vb / va)
    half = math.hypot(ha, hb)
    if abs(log_ratio) < min_log or abs(log_ratio) <= half:
        return None
    before = env_versions.get((str(a["machine"]), str(a["env"])), {})
    after = env_versions.get((str(b["machine"]), str(b["env"])), {})
    also = tuple(
        f"{p} {before.get(p, '-')} -> {after.get(p, '-')}"
        for p in sorted(set(before) | set(after))
        if p != framework and before.get(p) != after.get(p)
    )
    return ReleaseChange(
        framework=framework,
        before=str(a["release"]),
        after=str(b["release"]),
        machine=str(a["machine"]),
        commit=str(a["commit"]),
        benchmark=str(a["benchmark"]),
        param_key=str(a["param_key"]),
        label=point_label(b),
        ratio=math.exp(log_ratio),
        low=math.exp(log_ratio - half),
        high=math.exp(log_ratio + half),
        also_changed=also,
        params=dict(b["params"]) if isinstance(b.get("params"), dict) else {},
        before_env=_label_of(str(a["env"])),
        after_env=_label_of(str(b["env"])),
    )


def _label_of(env: str) -> str:
    """``existing-torch-2.12.0`` -> ``torch-2.12.0``: the release environment's folder name."""
    return env[len("existing-") :] if env.startswith("existing-") else env


def own_rows(axis: pd.DataFrame, framework: str) -> pd.DataFrame:
    """The rows of ``framework``'s own backends (torch:cpu, dgl-torch:cpu for dgl), where the
    axis has any; else all of them (SciPy's releases move the NumPy backend's graph points)."""
    if axis.empty or "backend" not in axis:
        return axis
    own = axis[axis["backend"].astype(str).str.contains(framework, case=False, regex=False)]
    return own if not own.empty else axis
