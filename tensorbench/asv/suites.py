"""Suite files (suites/*.toml): which combinations of the stable benchmark grid run.

A suite chooses; it never changes the grid (asv keys results by benchmark name and parameter
values, so the grid must stay the same across suites and commits). Format::

    name = "quick"
    description = "every workload x backend at small sizes"

    [workloads.matmul]
    sizes = [128, 512]            # must be in the grid (tensorbench.asv.grid.GRID)
    dtypes = ["float32"]          # optional, default all of the grid's
    backends = ["numpy:cpu", "torch:cpu"]   # optional, default all
    threads = [1, 2]              # optional, only for thread-scaling benchmarks

A bad file is rejected with the file, the key and the valid choices.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..conventions import SUITES_DIR
from ..errors import InputError
from .grid import GRID

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_TOP_KEYS = {"name", "description", "workloads"}
_WORKLOAD_KEYS = {"sizes", "dtypes", "backends", "threads"}


class SuiteError(InputError):
    """A suite file that is not valid; the message names the file and the key."""


@dataclass(frozen=True)
class Selection:
    sizes: frozenset
    dtypes: frozenset
    backends: frozenset
    threads: frozenset


@dataclass(frozen=True)
class Suite:
    name: str
    path: str
    description: str = ""
    workloads: dict[str, Selection] = field(default_factory=dict)

    def selects(
        self, workload: str, backend: str, size: Any, dtype: str, threads: int | None = None
    ) -> bool:
        sel = self.workloads.get(workload)
        return (
            sel is not None
            and size in sel.sizes
            and dtype in sel.dtypes
            and backend in sel.backends
            and (threads is None or threads in sel.threads)
        )

    def count(self) -> int:
        """Number of selected cases (before skips for absent frameworks or devices)."""
        return sum(
            len(s.sizes) * len(s.dtypes) * len(s.backends) * max(len(s.threads), 1)
            for s in self.workloads.values()
        )


def suite_path(name_or_path: str | Path, suites_dir: Path = SUITES_DIR) -> Path:
    """`quick` -> suites/quick.toml; a path is taken as it is."""
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.is_file():
        return p
    return suites_dir / f"{name_or_path}.toml"


def available_suites(suites_dir: Path = SUITES_DIR) -> list[str]:
    return sorted(p.stem for p in suites_dir.glob("*.toml"))


def _list(path: Path, key: str, value: Any, valid: list, kind: type | tuple) -> frozenset:
    if not isinstance(value, list) or not value:
        raise SuiteError(f"{path}: {key} must be a non-empty list (valid: {_fmt(valid)})")
    for v in value:
        if not isinstance(v, kind) or isinstance(v, bool):
            raise SuiteError(f"{path}: {key}: {v!r} has the wrong type (valid: {_fmt(valid)})")
        if v not in valid:
            raise SuiteError(f"{path}: {key}: {v!r} is not in the grid (valid: {_fmt(valid)})")
    return frozenset(value)


def _fmt(values: list) -> str:
    return ", ".join(map(str, values))


def load_suite(name_or_path: str | Path, suites_dir: Path = SUITES_DIR) -> Suite:
    """Read and validate a suite; ``SuiteError`` names the file, the key and valid choices.

    A name is looked up in ``suites_dir`` (the project's suites/), a path taken as it is.
    """
    path = suite_path(name_or_path, suites_dir)
    if not path.is_file():
        valid = _fmt(available_suites(suites_dir))
        raise SuiteError(f"no suite {str(name_or_path)!r} (valid: {valid}, or a .toml path)")
    try:
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:  # its message carries line and column
        raise SuiteError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SuiteError(f"{path}: line {line}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise SuiteError(f"{path}: cannot read ({exc.strerror})") from None
    for key in data:
        if key not in _TOP_KEYS:
            raise SuiteError(f"{path}: unknown key {key!r} (valid: {_fmt(sorted(_TOP_KEYS))})")
    name = data.get("name", path.stem)
    if not isinstance(name, str):
        raise SuiteError(f"{path}: name must be a string")
    workloads = data.get("workloads", {})
    if not isinstance(workloads, dict) or not workloads:
        raise SuiteError(
            f"{path}: [workloads.NAME] tables are required (valid: {_fmt(list(GRID))})"
        )
    selections = {}
    for wl, spec in workloads.items():
        if wl not in GRID:
            raise SuiteError(
                f"{path}: workloads.{wl}: unknown workload (valid: {_fmt(list(GRID))})"
            )
        if not isinstance(spec, dict):
            raise SuiteError(f"{path}: workloads.{wl} must be a table")
        for key in spec:
            if key not in _WORKLOAD_KEYS:
                raise SuiteError(
                    f"{path}: workloads.{wl}.{key}: unknown key "
                    f"(valid: {_fmt(sorted(_WORKLOAD_KEYS))})"
                )
        grid = GRID[wl]
        if "threads" in spec and not grid.threads:
            scaling = [k for k, g in GRID.items() if g.threads]
            raise SuiteError(
                f"{path}: workloads.{wl}.threads: {wl} has no threads parameter "
                f"(thread scaling: {_fmt(scaling)})"
            )
        if "sizes" not in spec:
            raise SuiteError(
                f"{path}: workloads.{wl}.sizes is required (valid: {_fmt(grid.sizes)})"
            )
        size_type = (int, str) if any(isinstance(s, str) for s in grid.sizes) else int
        selections[wl] = Selection(
            sizes=_list(path, f"workloads.{wl}.sizes", spec["sizes"], list(grid.sizes), size_type),
            dtypes=_list(
                path,
                f"workloads.{wl}.dtypes",
                spec.get("dtypes", list(grid.dtypes)),
                list(grid.dtypes),
                str,
            ),
            backends=_list(
                path,
                f"workloads.{wl}.backends",
                spec.get("backends", list(grid.backends)),
                list(grid.backends),
                str,
            ),
            threads=_list(path, f"workloads.{wl}.threads", spec["threads"], list(grid.threads), int)
            if "threads" in spec
            else frozenset(),
        )
    description = data.get("description", "")
    if not isinstance(description, str):
        raise SuiteError(f"{path}: description must be a string")
    return Suite(name=name, path=str(path), description=str(description), workloads=selections)
