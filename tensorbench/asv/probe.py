"""`python -m tensorbench.asv.probe`: facts and skip reasons as one environment sees them.

`tensorbench run` calls this with each environment's own interpreter and stores the JSON it
prints in that environment's asv result file (key "tensorbench"), because asv keeps neither
skip reasons nor build facts.
"""

from __future__ import annotations

import itertools
import json
import platform

from .. import threads
from ..conventions import param_key_of
from ..sysinfo import blas_info, info
from .grid import GRID
from .points import current_suite, grid_params, skip_reason


def skip_reasons() -> dict[str, dict[str, str]]:
    """grid key -> {asv param key: reason} for every point of the running suite that skips."""
    suite = current_suite()
    out: dict[str, dict[str, str]] = {}
    for key in GRID:
        if suite is not None and key not in suite.workloads:
            continue
        params, names = grid_params(key)
        reasons = {}
        for combo in itertools.product(*params):
            reason = skip_reason(key, *combo)
            if reason and not reason.startswith("not in suite"):
                reasons[param_key_of(names, combo)] = reason
        out[key] = reasons
    return out


def searchable_params(data: dict) -> dict[str, str]:
    """A few facts as flat strings for asv's result params (filters in asv publish)."""
    blas = next((b for b in data["blas"] if b.get("user_api") == "blas"), {})
    params = {
        "threads": str(data["threads"]),
        "blas": f"{blas.get('internal_api', '?')} {blas.get('version', '')} {blas.get('architecture', '')}".strip(),
    }
    for name, facts in data["backends"].items():
        if facts.get("available"):
            params[name] = str(facts.get("version"))
    return params


def main() -> None:
    threads.set_threads(None)
    data = info()
    data["blas"] = blas_info()  # after frameworks were imported by info()
    print(
        json.dumps(
            {
                "python": ".".join(platform.python_version_tuple()[:2]),
                "threads": threads.current_threads(),
                "params": searchable_params(data),
                "facts": data,
                "skip_reasons": skip_reasons(),
            },
            default=str,
        )
    )


if __name__ == "__main__":
    main()
