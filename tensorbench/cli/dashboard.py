"""`tensorbench dashboard`: the Streamlit dashboard on 127.0.0.1.

Starts ``streamlit run dashboard/streamlit_app.py`` with the results directory in
``TENSORBENCH_RESULTS``, and stops it with the command (Ctrl-C or SIGTERM).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..conventions import DASHBOARD_APP as APP
from ..conventions import RESULTS_DIR as DEFAULT_RESULTS
from ..conventions import RESULTS_ENV
from ..errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's subcommands to the `tensorbench` parser."""
    p = sub.add_parser("dashboard", help="start the Streamlit dashboard on 127.0.0.1")
    p.add_argument("--results", type=Path, default=None, help=f"default {DEFAULT_RESULTS}")
    p.add_argument("--port", type=int, default=8501)
    p.set_defaults(func=cmd_dashboard)


def cmd_dashboard(args: argparse.Namespace) -> int:
    if not APP.is_file():
        raise InputError(f"dashboard app not found at {APP} (run from a tensorbench checkout)")
    results = args.results if args.results is not None else DEFAULT_RESULTS
    if args.results is not None and not results.is_dir():
        raise InputError(f"results directory not found: {results}")
    if not 0 < args.port < 65536:
        raise InputError(f"--port must be 1-65535, got {args.port}")
    env = dict(os.environ, **{RESULTS_ENV: str(results.resolve())})
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address=127.0.0.1",
        f"--server.port={args.port}",
        "--server.headless=true",
        "--browser.gatherUsageStats=false",
        "--client.toolbarMode=minimal",
    ]
    print(f"tensorbench dashboard: http://127.0.0.1:{args.port}  (results: {results})")
    server = subprocess.Popen(command, env=env)

    def stop(signum: int, frame: Any) -> None:  # a terminated CLI must not orphan the server
        server.terminate()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        return server.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
