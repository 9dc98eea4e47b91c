"""Acknowledgements: known regressions listed in ``acknowledged.toml`` beside the results, which
the gate then lets pass (see `tensorbench.analysis.regressions`)."""

from __future__ import annotations

import fnmatch
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..conventions import ACK_FILE
from ..errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the tomli backport has the same API
    import tomli as tomllib


def ack_path(results_dir: str | Path) -> Path:
    """Where the acknowledgements of a results folder live."""
    return Path(results_dir) / ACK_FILE


@dataclass(frozen=True)
class Acknowledgement:
    """A known regression: benchmark pattern (fnmatch) and either a commit (a prefix will do)
    or a release step (``release = "torch 2.13"``: the step into torch 2.13, for
    ``regressions --by release``), and the reason."""

    benchmark: str
    commit: str
    reason: str = ""
    release: str = ""  # "FRAMEWORK VERSION": the release a release-to-release change leads to

    def matches(self, benchmark: str, commit: str) -> bool:
        return (
            bool(self.commit)
            and fnmatch.fnmatchcase(benchmark, self.benchmark)
            and commit.startswith(self.commit)
        )

    def matches_release(self, benchmark: str, framework: str, version: str) -> bool:
        """Whether this acknowledges ``benchmark`` changing in the step into ``framework``
        ``version`` (2.13 acknowledges 2.13.0 and its builds 2.13.0+cpu, 2.13.0+cu130)."""
        if not self.release or not fnmatch.fnmatchcase(benchmark, self.benchmark):
            return False
        name, _, wanted = self.release.partition(" ")
        if name.lower() != framework.lower():
            return False
        from packaging.version import InvalidVersion, Version

        try:
            want, got = Version(wanted.strip()), Version(version)
        except InvalidVersion:
            return wanted.strip() == version
        # "torch 2.13" names the release whatever its build: 2.13.0+cpu and 2.13.0+cu130 too
        return want == got if want.local else want == Version(got.public)


def load_acknowledged(path: str | Path) -> list[Acknowledgement]:
    """Read ``acknowledged.toml`` (``[[acknowledged]]`` tables); [] when the file is absent.

    Raises InputError naming the file (and line, where TOML reports one) on a bad file.
    """
    path = Path(path)
    if not path.is_file():
        return []
    text, data = _read_toml(path)
    entries = data.get("acknowledged", [])
    if not isinstance(entries, list):
        raise InputError(f"{path}: 'acknowledged' must be an array of tables ([[acknowledged]])")
    out = []
    for i, entry in enumerate(entries):
        where = f"{path}:{_entry_line(text, i)}"
        if not isinstance(entry, dict):
            raise InputError(f"{where}: entry {i + 1} is not a table")
        out.append(_entry(entry, where, i))
    return out


def _entry(entry: dict[str, Any], where: str, i: int) -> Acknowledgement:
    """One ``[[acknowledged]]`` table: a benchmark and a commit or a release, and a reason."""
    unknown = set(entry) - {"benchmark", "commit", "release", "reason"}
    if unknown:
        raise InputError(f"{where}: unknown keys {sorted(unknown)} in entry {i + 1}")
    if not isinstance(entry.get("benchmark"), str) or not entry["benchmark"].strip():
        raise InputError(f"{where}: entry {i + 1} needs a non-empty string 'benchmark'")
    given = [k for k in ("commit", "release") if k in entry]
    if len(given) != 1:
        raise InputError(
            f"{where}: entry {i + 1} needs either a 'commit' or a 'release' (e.g. "
            'release = "torch 2.13"), not ' + (" and ".join(given) or "neither")
        )
    value = entry[given[0]]
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}: entry {i + 1} needs a non-empty string {given[0]!r}")
    if given[0] == "release" and len(value.split()) != 2:
        raise InputError(
            f"{where}: entry {i + 1}: release {value!r} must be 'FRAMEWORK VERSION' (torch 2.13)"
        )
    reason = entry.get("reason", "")
    if not isinstance(reason, str):
        raise InputError(f"{where}: entry {i + 1}: 'reason' must be a string")
    if given[0] == "release":
        return Acknowledgement(entry["benchmark"], "", reason, release=" ".join(value.split()))
    return Acknowledgement(entry["benchmark"], value.strip().lower(), reason)


def _read_toml(path: Path) -> tuple[str, dict[str, Any]]:
    """The text and parsed TOML of ``path``; InputError naming the file on bad bytes or syntax."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{path}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "save the file as UTF-8"
        ) from None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: {exc}") from None


def acknowledged_warnings(
    path: str | Path, acknowledged: list[Acknowledgement], table: pd.DataFrame
) -> list[str]:
    """What in ``acknowledged.toml`` can never take effect on ``table``, one line each.

    A top-level key other than ``acknowledged`` (a misspelt table such as
    ``[[acknowleged]]``); an entry whose benchmark pattern matches no benchmark, or whose
    commit matches no commit, of the results. [] when the file is absent.
    """
    path = Path(path)
    if not path.is_file():
        return []
    text, data = _read_toml(path)
    out = [
        f"{path}: table [{key}] is not [[acknowledged]]; its entries are ignored"
        for key in data
        if key != "acknowledged"
    ]
    if table is None or table.empty:
        return out
    benchmarks = [str(b) for b in pd.unique(table["benchmark"].astype(str))]
    commits = [str(c) for c in pd.unique(table["commit"].astype(str))]
    for i, ack in enumerate(acknowledged):
        where = f"{path}:{_entry_line(text, i)}"
        if not any(fnmatch.fnmatchcase(b, ack.benchmark) for b in benchmarks):
            out.append(f"{where}: benchmark {ack.benchmark!r} matches no benchmark in the results")
        if ack.commit and not any(c.startswith(ack.commit) for c in commits):
            out.append(f"{where}: commit {ack.commit!r} matches no commit in the results")
    return out


def _entry_line(text: str, index: int) -> int:
    """Line number of the ``index``-th ``[[acknowledged]]`` header (1-based), for messages."""
    seen = -1
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith("[[acknowledged]]"):
            seen += 1
            if seen == index:
                return lineno
    return 1


def as_acknowledgements(acknowledged: Iterable[Any] | None) -> list[Acknowledgement]:
    out = []
    for a in acknowledged or ():
        if isinstance(a, Acknowledgement):
            out.append(a)
        elif isinstance(a, Mapping):
            out.append(
                Acknowledgement(str(a["benchmark"]), str(a["commit"]).lower(), a.get("reason", ""))
            )
        else:
            raise TypeError(f"acknowledgement must be an Acknowledgement or a mapping, not {a!r}")
    return out
