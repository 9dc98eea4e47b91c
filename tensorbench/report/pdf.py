"""Print the HTML report to PDF with headless Chromium (Playwright): vector charts, A4/Letter.

The browser is Debian's Chromium; nothing leaves the machine while printing (every request
other than the report's own file is aborted).
"""

from __future__ import annotations

from pathlib import Path

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
) -> Path:
    """Print ``html_path`` to ``pdf_path`` (page numbers in the footer); returns the path."""
    if page_size not in PAGE_SIZES:
        raise InputError(f"unknown page size {page_size!r} (valid: {', '.join(PAGE_SIZES)})")
    if not Path(chromium).exists():
        raise InputError(
            f"the PDF needs Chromium at {chromium} (apt-get install -y chromium), or pass --no-pdf"
        )
    from playwright.sync_api import sync_playwright

    source = Path(html_path).resolve().as_uri()
    out = Path(pdf_path)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page()
            page.route(
                "**/*",
                lambda route: route.continue_() if route.request.url == source else route.abort(),
            )
            page.goto(source, wait_until="load")
            page.emulate_media(media="print")
            page.pdf(
                path=str(out),
                format=page_size,
                print_background=True,
                prefer_css_page_size=False,
                display_header_footer=True,
                header_template="<span></span>",
                footer_template=_FOOTER,
                margin={"top": "14mm", "bottom": "16mm", "left": "12mm", "right": "12mm"},
            )
        finally:
            browser.close()
    return out
