"""The report in a real browser, offline: Debian's Chromium driven by Playwright, headless.

For the synthetic database, results/ and each shared database: the HTML, PDF and slides are
written; the page, opened from a file:// URL, draws every chart and makes no request beyond
its own file; the PDF starts every section on a page of its own, in order, and carries the
methods section.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tensorbench.report import build_report, write_report
from tensorbench.report.pdf import CHROMIUM, CHROMIUM_ARGS
from tensorbench.workloads import work_model

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
SHARED = ("openblas-benchmarks", "kedro-benchmark-results", "conda-benchmarks-v1")

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} not installed (apt-get install -y chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def synthetic(synthetic_results) -> Path:
    return synthetic_results(commits=15, regression=1.5, sizes=(64, 256, 1024), threads=(1, 2))


@pytest.mark.parametrize("name", ["synthetic", "results", *SHARED])
def test_report_offline_pdf_and_slides(name, synthetic, browser, tmp_path, request) -> None:
    if name in SHARED:
        shared = request.getfixturevalue("shared_data")
        results = shared / "asv-results" / name
    else:
        results = synthetic if name == "synthetic" else REPO / "results"
    if not results.is_dir():
        pytest.skip(f"{results} not present")
    report = build_report(results, work_model=work_model)
    slides = tmp_path / "slides"
    written = write_report(report, tmp_path / name, slides=slides, browser=browser)
    html_path, pdf_path = tmp_path / f"{name}.html", tmp_path / f"{name}.pdf"
    assert written[:2] == [html_path, pdf_path]
    n_figures = len(report.figures())

    # the page: every chart drawn, no request beyond the file itself
    url = html_path.resolve().as_uri()
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.route(
        "**/*", lambda route: route.continue_() if route.request.url == url else route.abort()
    )
    page.goto(url, wait_until="load")
    figures = page.locator("figure")
    assert figures.count() == n_figures
    for i in range(n_figures):
        svg = figures.nth(i).locator("svg").first
        box = svg.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 30, i
        assert svg.locator("path, text").count() > 3  # marks and labels, not an empty frame
    assert requests == [url]
    page.close()

    # the PDF: each section opens a page, in order; the methods are in its text
    from pypdf import PdfReader

    pages = [p.extract_text() or "" for p in PdfReader(pdf_path).pages]
    assert pages[0].lstrip().startswith(report.title)
    starts = []
    for sec in report.sections[1:]:
        found = [i for i, text in enumerate(pages) if text.lstrip().startswith(sec.title)]
        assert found, f"section {sec.title!r} does not open a page"
        starts.append(found[0])
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert len(pages) >= len(report.sections)
    assert all(text.strip() for text in pages)  # no blank page
    methods = "\n".join(pages[starts[-1] :])
    assert "Methods" in methods and "Statistics. Each value is asv" in " ".join(methods.split())

    # the slides: one 16:9 SVG and PNG per chart, and the index
    assert len(list(slides.glob("*.svg"))) == len(list(slides.glob("*.png"))) == n_figures
    assert (slides / "index.html").is_file()
