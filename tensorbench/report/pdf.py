"""Print the HTML report to PDF with headless Chromium (Playwright): vector charts, A4/Letter.

The browser is Debian's Chromium; nothing leaves the machine while printing (every request
other than the report's own file is aborted).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InputError

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PAGE_SIZES = ("A4", "Letter")

_FOOTER = (
    '<div style="font-size:8px;width:100%;padding:0 12mm;color:#666;'
    'font-family:Liberation Sans,Arial,sans-serif;display:flex;justify-content:space-between">'
    '<span class="title"></span><span><span class="pageNumber"></span> / '
    '<span class="totalPages"></span></span></div>'
)


def write_pdf(
    html_path: str | Path,
    pdf_path: str | Path,
    *,
    page_size: str = "A4",
    chromium: str | Path = CHROMIUM,
    browser: Any = None,
) -> Path:
    """Print ``html_path`` to ``pdf_path`` (page numbers in the footer); returns the path.

    ``browser``: a Playwright browser already launched (one Playwright per thread), else
    Chromium is launched for this print and closed after it.
    """
    if page_size not in PAGE_SIZES:
        raise InputError(f"unknown page size {page_size!r} (valid: {', '.join(PAGE_SIZES)})")
    if browser is not None:
        _print(browser, Path(html_path), Path(pdf_path), page_size)
        return Path(pdf_path)
    if not Path(chromium).exists():
        raise InputError(
            f"the PDF needs Chromium at {chromium} (apt-get install -y chromium), or pass --no-pdf"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        try:
            _print(launched, Path(html_path), Path(pdf_path), page_size)
        finally:
            launched.close()
    return Path(pdf_path)


def _print(browser: Any, html_path: Path, pdf_path: Path, page_size: str) -> None:
    source = html_path.resolve().as_uri()
    page = browser.new_page()
    try:
        # the report is one file: anything else it asked for would be a leak, so refuse it
        page.route(
            "**/*",
            lambda route: route.continue_() if route.request.url == source else route.abort(),
        )
        page.goto(source, wait_until="load")
        page.emulate_media(media="print")
        page.pdf(
            path=str(pdf_path),
            format=page_size,
            print_background=True,
            display_header_footer=True,
            header_template="<span></span>",
            footer_template=_FOOTER,
            margin={"top": "14mm", "bottom": "16mm", "left": "12mm", "right": "12mm"},
        )
    finally:
        page.close()
