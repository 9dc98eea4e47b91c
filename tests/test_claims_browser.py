"""The Claims page in a real browser (Chromium, headless): on the project's committed results
every claim is listed with a verdict its rule gave, and on a database without the claims'
workloads every claim is still listed, as not measured."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS, free_port, start_server, stop_server

from tensorbench.analysis import claims as cl
from tensorbench.analysis.results import load_results
from tensorbench.testing import write_synthetic_results

pytestmark = pytest.mark.browser
REPO = Path(__file__).resolve().parents[1]
VERDICTS = (cl.HOLDS, cl.PARTLY, cl.DOES_NOT_HOLD, cl.INCONCLUSIVE)


@pytest.mark.parametrize("db_name", ["project", "without-claims"])
def test_claims_page_renders_in_a_browser(db_name: str, tmp_path: Path, test_output: Path):
    from playwright.sync_api import sync_playwright

    if db_name == "project":
        results = REPO / "results"
        measured = cl.claims_table(load_results(results).table)
        if not measured["verdict"].isin(VERDICTS).any():
            pytest.skip("the project's results/ hold no results of the claims' workloads yet")
    else:
        results = tmp_path / "results"
        write_synthetic_results(results, commits=3)
        measured = cl.claims_table(load_results(results).table)
    port = free_port()
    proc = start_server(results, port)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1500, "height": 1400})
            idle = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
            page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
            page.get_by_role("heading", name="tensorbench results").wait_for(timeout=60_000)
            page.wait_for_function(idle, timeout=60_000)
            t0 = time.perf_counter()
            page.get_by_role("link", name="Claims").click()
            page.get_by_role("heading", name="Claims").first.wait_for(timeout=60_000)
            page.locator('[data-testid="stTable"]').first.wait_for(timeout=60_000)
            page.wait_for_function(idle, timeout=60_000)
            print(f"Claims page ({db_name}): drawn in {time.perf_counter() - t0:.2f} s")
            errors = page.locator('[data-testid="stException"]')
            assert errors.count() == 0, errors.first.inner_text()[:2000]
            text = page.locator('[data-testid="stMain"]').inner_text()
            for claim in cl.CLAIMS:
                assert claim.who in text
            assert "needs a GPU" in text and "needs 256 GPUs" in text
            if db_name == "project":
                # every verdict the analysis gives is on the page, with its figure
                for verdict in set(measured["verdict"]) & set(VERDICTS):
                    assert verdict in text
                first = measured[measured["verdict"].isin(VERDICTS)].iloc[0]
                assert f"{first['value']:.2f} [{first['low']:.2f}, {first['high']:.2f}]" in text
            else:
                assert cl.NOT_MEASURED in text
                assert not measured["verdict"].isin(VERDICTS).any()
            page.screenshot(path=str(test_output / f"claims-{db_name}.png"), full_page=True)
            browser.close()
    finally:
        stop_server(proc)
