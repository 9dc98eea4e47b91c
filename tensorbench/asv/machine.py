"""asv's machine entry: a stable name and the facts asv stores in results/<machine>/machine.json."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from ..errors import InputError

# A machine name becomes a folder under results/: no separators, no leading dot.
_VALID_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]{0,99}")


def machine_name(info: dict[str, Any]) -> str:
    """A stable, non-personal machine name: CPU family, cores, GPU model (no hostname)."""
    m = info["machine"]
    cpu = re.sub(r"\(r\)|\(tm\)|cpu|processor|@.*|\d+-core", "", m["cpu"].lower())
    words = [w for w in re.split(r"[^a-z0-9]+", cpu) if w][:3]
    name = "-".join(words + [f"{m['cores']}c"])
    for gpu in m.get("gpus", [])[:1]:
        name += (
            "-"
            + "-".join(
                w
                for w in re.split(r"[^a-z0-9]+", gpu["name"].lower())
                if w and w not in ("nvidia", "tesla")
            )[:20]
        )
    return name


def machine_facts(info: dict[str, Any], name: str) -> dict[str, str]:
    """asv's machine.json fields (strings), from `tensorbench info`; no hostname, no user."""
    m = info["machine"]
    gpu = "; ".join(f"{g['name']} (driver {g['driver']})" for g in m.get("gpus", []))
    return {
        "machine": name,
        "os": m["os"],
        "arch": m["arch"],
        "cpu": m["cpu"] + (f" + {gpu}" if gpu else ""),
        "num_cpu": str(m["logical_cpus"]),
        "ram": f"{m['memory_gib']}GB",
    }


def check_machine_name(name: str) -> str:
    """``name`` when it is usable as a results folder; InputError naming what is valid."""
    if not _VALID_NAME.fullmatch(name):
        raise InputError(
            f"--machine {name!r}: use 1-100 letters, digits, '_', '-', '.' or '+' "
            "(not starting with '.' or '-'); it names a folder under results/"
        )
    return name


def read_machine_file(path: Path) -> dict[str, Any]:
    """asv's machine file as a dict; InputError (the file untouched) when it cannot be read.

    A malformed file is never replaced: it holds the entries of every machine this user ran
    asv on, which a rewrite would lose.
    """
    if not path.exists():
        return {}
    keep = "fix or remove it; it is left as it is (it may hold other machines' entries)"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}: line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg}); {keep}"
        ) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start}); {keep}") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror}); {keep}") from None
    if not isinstance(data, dict):
        raise InputError(
            f"{path}: expected a JSON object of machines, found a {type(data).__name__}; {keep}"
        )
    return data


def _write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` in one step: an interrupted write leaves the old file, not half a one."""
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def ensure_machine(info: dict[str, Any], name: str | None = None) -> str:
    """Record this machine in asv's machine file (~/.asv-machine.json); returns its name.

    Written directly: `asv machine --yes` kept only --ram of the facts passed to it here.
    asv copies the entry into results/<machine>/machine.json on every run. Other machines'
    entries are kept; a file that cannot be read is refused (InputError), never replaced.
    """
    name = check_machine_name(name or machine_name(info))
    path = Path.home() / ".asv-machine.json"
    data = read_machine_file(path)
    facts = machine_facts(info, name)
    if data.get(name) == facts and data.get("version") == 1:
        return name  # already recorded: leave the file alone
    data[name] = facts
    data["version"] = 1
    try:
        _write_atomically(path, json.dumps(data, indent=4))
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror}); it is left as it was") from None
    return name
