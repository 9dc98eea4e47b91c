"""asv's machine entry: a stable name and the facts asv stores in results/<machine>/machine.json."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any


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


def ensure_machine(info: dict[str, Any], name: str | None = None) -> str:
    """Record this machine in asv's machine file (~/.asv-machine.json); returns its name.

    Written directly: `asv machine --yes` kept only --ram of the facts passed to it here.
    asv copies the entry into results/<machine>/machine.json on every run.
    """
    name = name or machine_name(info)
    path = Path.home() / ".asv-machine.json"
    try:
        data = json.loads(path.read_text()) if path.exists() else {}
    except ValueError:
        data = {}
    data[name] = machine_facts(info, name)
    data["version"] = 1
    path.write_text(json.dumps(data, indent=4))
    return name
