"""The dashboard in a real browser: Debian's Chromium driven by Playwright, headless.

Starts `streamlit run` on a free loopback port, visits every page, checks that a chart was
drawn (vega-embed's svg or canvas) and that no Streamlit exception is shown, saves a full-page
screenshot per page under test-output/, and stops the server by its own process id.
"""

from __future__ import annotations

import os
import re
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


def two_machine_copy(results: Path, dest: Path) -> Path:
    """``results`` copied, with its first machine's folder copied under a second machine name
    when it holds one machine only (two side by side is the layout under test)."""
    import json
    import shutil

    shutil.copytree(results, dest)
    machines = [p for p in sorted(dest.iterdir()) if (p / "machine.json").is_file()]
    if len(machines) >= 2:
        return dest
    first = machines[0]
    twin = dest / f"{first.name}-twin"
    shutil.copytree(first, twin)
    for path in twin.glob("*.json"):
        data = json.loads(path.read_text())
        if path.name == "machine.json":
            data["machine"] = twin.name
        elif isinstance(data.get("params"), dict):
            data["params"]["machine"] = twin.name
        path.write_text(json.dumps(data))
    return dest


@pytest.mark.parametrize("db_name", ["synthetic", "project"])
def test_overview_fits_1500_px_with_readable_labels(
    db_name: str, browser_results: Path, browser, tmp_path: Path, test_output: Path
) -> None:
    """At 1500 px, each machine's speedup heatmap fits the page (side by side, the second ran
    off its right edge) and its column labels are whole and apart (they ran into each other);
    the per-commit section says how many results ran and lists why the others were skipped."""
    project = REPO / "results"
    if db_name == "project":
        if not project.is_dir() or load_results(project).table.empty:
            pytest.skip("the project's results/ holds no asv results yet")
        results = two_machine_copy(project, tmp_path / "results")
    else:
        results = browser_results
    machines = sorted(load_results(results).machines)
    assert len(machines) >= 2
    port = free_port()
    proc = start_server(results, port)
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    try:
        page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
        page.get_by_role("heading", name="Results per commit").wait_for(timeout=60_000)
        heatmaps = page.locator(".vega-embed").filter(
            has=page.locator("svg text", has_text="speedup over numpy:cpu")
        )
        heatmaps.nth(len(machines) - 1).wait_for(state="visible", timeout=60_000)
        page.wait_for_function(
            "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000
        )
        page.wait_for_timeout(500)  # let vega-embed finish the last draw
        assert heatmaps.count() == len(machines)
        main_right = page.evaluate(
            "() => document.querySelector('[data-testid=\"stMain\"]').getBoundingClientRect().right"
        )
        for i in range(len(machines)):
            found = heatmaps.nth(i).evaluate(LAYOUT_JS)
            title = found["title"]
            assert found["right"] <= min(1500, main_right), (title, found["right"], main_right)
            assert found["svgWidth"] <= found["boxWidth"] + 1, (title, found)
            labels = found["labels"]
            assert len(labels) >= 3, (title, labels)
            assert not [t for t in labels if "…" in t["text"]], (title, "truncated", labels)
            for a, b in zip(labels, labels[1:], strict=False):
                assert a["right"] <= b["left"], (title, "labels overlap", a, b)
        ran = page.locator("p", has_text="results ran").first.inner_text()
        assert re.search(r"[\d,]+ results ran \([\d,]+ ok, [\d,]+ failed\)", ran), ran
        if "were skipped" in ran:  # every listed reason carries its count and share
            items = page.locator("li", has_text="%)").all_inner_texts()
            assert items and all(re.match(r"[\d,]+ \(\d+%\): \S", t) for t in items), items
        page.screenshot(path=str(test_output / f"overview-1500-{db_name}.png"), full_page=True)
        errors = page.locator('[data-testid="stException"]')
        assert errors.count() == 0, errors.first.inner_text()[:2000]
    finally:
        page.close()
        stop_server(proc)


# A heatmap's place on the page and its x-axis labels (Vega's SVG: the axis group's aria-label
# starts with "X-axis"; a multi-line label is one <text> of <tspan>s), left to right.
LAYOUT_JS = """(embed) => {
  const svg = embed.querySelector('svg');
  const box = embed.getBoundingClientRect();
  const axis = [...svg.querySelectorAll('g.role-axis')]
    .find(g => (g.getAttribute('aria-label') || '').startsWith('X-axis'));
  const labels = axis ? [...axis.querySelectorAll('g.role-axis-label text')].map(t => {
    const r = t.getBoundingClientRect();
    const lines = [...t.querySelectorAll('tspan')].map(s => s.textContent);
    return {text: (lines.length ? lines : [t.textContent]).join(' / '), left: r.left, right: r.right};
  }).sort((a, b) => a.left - b.left) : [];
  const title = svg.querySelector('g.role-title text');
  return {title: title ? title.textContent : '', right: svg.getBoundingClientRect().right,
          svgWidth: svg.getBoundingClientRect().width, boxWidth: box.width, labels};
}"""
