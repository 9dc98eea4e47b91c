"""The Releases page in a real browser (Chromium, headless), on a written release history and on
the project's committed results."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS, free_port, start_server, stop_server
from test_releases import write_release_db

from tensorbench.analysis.releases import FRAMEWORKS, env_versions, release_axis
from tensorbench.analysis.results import load_results

pytestmark = pytest.mark.browser
REPO = Path(__file__).resolve().parents[1]


def _has_releases(results: Path) -> bool:
    db = load_results(results)
    versions = env_versions(db.envs)
    return any(release_axis(db.table, versions, fw)["release"].nunique() >= 2 for fw in FRAMEWORKS)


@pytest.mark.parametrize("db_name", ["written", "project"])
def test_releases_page_renders_in_a_browser(db_name: str, tmp_path: Path, test_output: Path):
    from playwright.sync_api import sync_playwright

    if db_name == "written":
        results = write_release_db(
            tmp_path / "results", {"2.11.0": 1.0, "2.12.0": 1.0, "2.13.0": 1.15, "2.14.0": 1.15}
        )
    else:
        results = REPO / "results"
        if not _has_releases(results):
            pytest.skip("the project's results/ hold no framework at two releases yet")
    port = free_port()
    proc = start_server(results, port)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1500, "height": 1400})
            idle = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"

            def drawn() -> None:
                page.get_by_role("heading", name="Releases").first.wait_for(timeout=60_000)
                page.locator(".vega-embed svg, .vega-embed canvas").first.wait_for(
                    state="visible", timeout=60_000
                )
                page.wait_for_function(idle, timeout=60_000)

            # The Overview first: the server starts its session and reads the results once.
            # Then the Releases page as a user reaches it, from the sidebar: its first visit
            # (its own figures computed) and a later one (kept per database version).
            t0 = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
            page.get_by_role("heading", name="tensorbench results").wait_for(timeout=60_000)
            page.wait_for_function(idle, timeout=60_000)
            print(f"Overview ({db_name}), server's first page: {time.perf_counter() - t0:.2f} s")
            for visit in ("first", "second"):
                if visit == "second":
                    page.get_by_role("link", name="Overview").click()
                    page.get_by_role("heading", name="tensorbench results").wait_for()
                    page.wait_for_function(idle, timeout=60_000)
                t0 = time.perf_counter()
                page.get_by_role("link", name="Releases").click()
                drawn()
                took = time.perf_counter() - t0
                print(f"Releases page ({db_name}), {visit} visit: drawn in {took:.2f} s")
            errors = page.locator('[data-testid="stException"]')
            assert errors.count() == 0, errors.first.inner_text()[:2000]
            assert page.locator("text=Largest changes first").count() == 1
            text = page.locator('[data-testid="stMain"]').inner_text()
            assert "release" in text
            page.screenshot(path=str(test_output / f"releases-{db_name}.png"), full_page=True)
            browser.close()
    finally:
        stop_server(proc)
