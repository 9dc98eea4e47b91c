"""Find the files of an asv results directory, tolerating what file systems do to them.

Symlink loops, the same file or folder reached twice (a symlinked duplicate machine folder),
folders or files that cannot be read, things that are not regular files (a FIFO would block a
reader) and files too large to be asv results are skipped with a reason, each listed once.
Nothing here reads a file's contents: :mod:`.results` does, on the list this returns. A file
the reader skips, here or later, is a :class:`SkippedFile`.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

# asv writes one commit x environment per file: even tensorbench's largest grids are a few MB.
# Anything larger is not a result file (or would take the reader's memory with it).
MAX_RESULT_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class SkippedFile:
    """A file (or one benchmark inside it) that was not read, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class Listed:
    """One readable result file: path relative to the results folder, and its cache key.

    ``ctime_ns`` and ``ino`` are there because size and mtime alone can lie: ``rsync -a``,
    ``cp -p`` and ``tar -x`` restore the old mtime on new content, but none of them can set
    the change time, and they write a new inode."""

    rel: str
    path: str
    size: int
    mtime_ns: int
    ctime_ns: int = 0
    ino: int = 0


@dataclass
class Folder:
    """One machine folder: its name, its machine.json (if any) and its result files."""

    name: str
    path: str
    files: list[Listed] = field(default_factory=list)
    has_machine_json: bool = False


def _why(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "cannot read: permission denied"
    if exc.errno == 40:  # ELOOP
        return "symlink loop"
    return f"cannot read: {exc.strerror or exc}"


def _scandir(path: str) -> list[os.DirEntry]:
    """The entries of ``path``, sorted by name (a seam for tests that simulate file systems)."""
    with os.scandir(path) as it:
        return sorted(it, key=lambda e: e.name)


def list_results(
    root: Path, skipped: list[SkippedFile], max_bytes: int | None = None
) -> list[Folder]:
    """Machine folders under ``root`` and their result files; what cannot be used goes to
    ``skipped`` with its reason, once. A file or folder reached twice (through a symlink, a
    hard link or a bind mount) is read at its first path in name order."""
    max_bytes = MAX_RESULT_BYTES if max_bytes is None else max_bytes
    seen: dict[tuple[int, int], str] = {}
    folders: list[Folder] = []
    for entry in _scandir(str(root)):
        if entry.name.startswith("."):
            continue
        try:
            st = entry.stat()  # follows symlinks
        except OSError as exc:
            skipped.append(SkippedFile(entry.path, _why(exc)))
            continue
        if not stat.S_ISDIR(st.st_mode):
            if entry.name.endswith(".json") and entry.name != "benchmarks.json":
                skipped.append(SkippedFile(entry.path, "not in a machine folder"))
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen:
            skipped.append(SkippedFile(entry.path, f"same folder as {seen[key]} (not read twice)"))
            continue
        seen[key] = entry.path
        folder = Folder(entry.name, entry.path)
        try:
            entries = _scandir(entry.path)
        except OSError as exc:
            skipped.append(SkippedFile(entry.path, _why(exc)))
            continue
        for sub in entries:
            if not sub.name.endswith(".json"):
                continue
            try:
                fst = sub.stat()
            except OSError as exc:
                skipped.append(SkippedFile(sub.path, _why(exc)))
                continue
            if not stat.S_ISREG(fst.st_mode):
                if not stat.S_ISDIR(fst.st_mode):
                    skipped.append(SkippedFile(sub.path, "not a regular file"))
                continue
            if sub.name == "machine.json":
                folder.has_machine_json = True
                continue
            fkey = (fst.st_dev, fst.st_ino)
            if fkey in seen:
                skipped.append(SkippedFile(sub.path, f"same file as {seen[fkey]} (not read twice)"))
                continue
            seen[fkey] = sub.path
            if fst.st_size > max_bytes:
                skipped.append(
                    SkippedFile(
                        sub.path,
                        f"{fst.st_size / 2**20:,.0f} MB: larger than any asv result file "
                        f"(limit {max_bytes / 2**20:,.0f} MB)",
                    )
                )
                continue
            folder.files.append(
                Listed(
                    f"{entry.name}/{sub.name}",
                    sub.path,
                    fst.st_size,
                    fst.st_mtime_ns,
                    fst.st_ctime_ns,
                    fst.st_ino,
                )
            )
        if folder.has_machine_json or folder.files:
            folders.append(folder)  # else not a machine folder at all (e.g. html output)
    return folders


def fingerprint(results_dir: str | Path) -> tuple[tuple[str, int, int, int, int], ...]:
    """A cheap key that changes when any JSON file under ``results_dir`` changes.

    (relative path, mtime, change time (both ns), inode, size) for every ``*.json`` at the top
    and one folder down, sorted. Pass it to a cache (``st.cache_data``) next to the directory
    so that a new or rewritten result file invalidates the cached table; the change time and
    inode catch what ``rsync -a`` or ``cp -p`` do (new content under the old mtime and size).
    """
    root = Path(results_dir)
    out: list[tuple[str, int, int, int, int]] = []
    try:
        top = list(os.scandir(root))
    except OSError:
        return ()
    for entry in top:
        try:
            if entry.is_dir():
                for sub in os.scandir(entry.path):
                    if sub.name.endswith(".json") and sub.is_file():
                        out.append(_stat_key(f"{entry.name}/{sub.name}", sub.stat()))
            elif entry.name.endswith(".json"):
                out.append(_stat_key(entry.name, entry.stat()))
        except OSError:
            continue  # vanished while scanning; the next call sees the new state
    out.sort()
    return tuple(out)


def _stat_key(name: str, st: os.stat_result) -> tuple[str, int, int, int, int]:
    return (name, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_size)
