"""The dashboard in a real browser: Debian's Chromium driven by Playwright, headless.

Starts `streamlit run` on a free loopback port, visits every page, checks that a chart was
drawn (vega-embed's svg or canvas) and that no Streamlit exception is shown, saves a full-page
screenshot per page under test-output/, and stops the server by its own process id.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tensorbench.analysis.results import load_results

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "dashboard" / "streamlit_app.py"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PAGES = {  # url path -> a heading the page shows
    "": "tensorbench results",
    "compare": "Compare frameworks",
    "scaling": "Scaling",
    "regressions": "Regressions",
    "environments": "Environments",
}
CHART = ".vega-embed svg, .vega-embed canvas"

if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} not installed (apt-get install -y chromium); the browser test needs it",
        allow_module_level=True,
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(results: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ, TENSORBENCH_RESULTS=str(results))
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--server.headless=true",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
        "--client.toolbarMode=minimal",
    ]
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=REPO
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{out[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    stop_server(proc)
    raise RuntimeError("streamlit did not answer its health check within 60 s")


def stop_server(proc: subprocess.Popen) -> None:
    """Stop the server we started, by its own process id."""
    if proc.poll() is None:
        os.kill(proc.pid, 15)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, 9)
            proc.wait(timeout=15)
    if proc.stdout:
        proc.stdout.close()


@pytest.fixture(scope="module")
def browser_results(synthetic_results) -> Path:
    """A tensorbench-shaped database: two machines (one with a GPU), threads, a regression."""
    return synthetic_results(
        commits=30,
        workloads=("matmul", "conv2d", "mlp_step"),
        backends=("numpy:cpu", "torch:cpu", "jax:cpu", "torch:cuda", "cupy:cuda"),
        sizes=(64, 256, 1024),
        machines=("laptop", "gpu-box"),
        threads=(1, 2, 4, 8),
        regression=1.4,
    )


def databases(synthetic: Path) -> dict[str, Path]:
    found = {"synthetic": synthetic}
    project = REPO / "results"
    if project.is_dir() and len(load_results(project).table):
        found["project"] = project
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.mark.parametrize("db_name", ["synthetic", "project"])
def test_every_page_renders_a_chart(
    db_name: str, browser_results: Path, browser, test_output: Path
) -> None:
    dbs = databases(browser_results)
    if db_name not in dbs:
        pytest.skip("the project's results/ holds no asv results yet")
    port = free_port()
    proc = start_server(dbs[db_name], port)
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    try:
        for path, heading in PAGES.items():
            page.goto(f"http://127.0.0.1:{port}/{path}", wait_until="domcontentloaded")
            page.get_by_role("heading", name=heading).first.wait_for(timeout=60_000)
            page.locator(CHART).first.wait_for(state="visible", timeout=60_000)
            # Streamlit is done when its "running" indicator is gone.
            page.wait_for_function(
                "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                timeout=60_000,
            )
            page.wait_for_timeout(500)  # let vega-embed finish the last draw
            # Streamlit scrolls inside its main block: grow the window to show all of it.
            height = page.evaluate(
                "() => document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight || 1000"
            )
            page.set_viewport_size({"width": 1600, "height": min(max(height, 1000), 6000)})
            page.wait_for_timeout(300)
            shot = test_output / f"dashboard-{db_name}-{path or 'overview'}.png"
            page.screenshot(path=str(shot), full_page=True)
            page.set_viewport_size({"width": 1600, "height": 1000})
            errors = page.locator('[data-testid="stException"]')
            assert errors.count() == 0, f"/{path}: {errors.first.inner_text()[:2000]}"
            assert page.locator(CHART).count() >= 1, f"/{path}: no chart drawn"
            assert shot.stat().st_size > 10_000
    finally:
        page.close()
        stop_server(proc)


def test_scaling_page_draws_the_roofline(browser_results: Path, browser, test_output: Path) -> None:
    """The Scaling page's roofline: a drawn chart titled per machine, with the mode legend."""
    port = free_port()
    proc = start_server(browser_results, port)
    page = browser.new_page(viewport={"width": 1600, "height": 3000})
    try:
        page.goto(f"http://127.0.0.1:{port}/scaling", wait_until="domcontentloaded")
        page.get_by_role("heading", name="Roofline").first.wait_for(timeout=60_000)
        title = page.locator("svg text", has_text="roofline · ")
        chart = page.locator(".vega-embed").filter(has=title).first
        chart.wait_for(state="visible", timeout=60_000)
        legend = chart.locator("svg text", has_text="mode")
        assert legend.count() >= 1, "the roofline has no mode legend"
        assert chart.locator("svg path").count() > 3, "no points or roofs drawn"
        chart.screenshot(path=str(test_output / "dashboard-roofline.png"))
        errors = page.locator('[data-testid="stException"]')
        assert errors.count() == 0, errors.first.inner_text()[:2000]
    finally:
        page.close()
        stop_server(proc)
