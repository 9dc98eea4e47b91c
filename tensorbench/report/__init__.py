"""A self-contained, talk-ready report of an asv results database: HTML, PDF, slides.

Uses :mod:`tensorbench.analysis` for the numbers and :mod:`tensorbench.charts` for the
figures; imports no framework and no workload (the work model and the validation tolerances
come from the caller). Basic usage::

    report = build_report("results", work_model=work_model)
    write_report(report, "out/report", slides="out/slides")   # report.html, report.pdf
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .build import build_report
from .content import Figure, Heading, Paragraph, Report, Section, Table
from .html import render_html
from .pdf import PAGE_SIZES, write_pdf
from .slides import write_slides
from .svg import render_svg

__all__ = [
    "PAGE_SIZES",
    "Figure",
    "Heading",
    "Paragraph",
    "Report",
    "Section",
    "Table",
    "build_report",
    "render_html",
    "render_svg",
    "write_pdf",
    "write_report",
    "write_slides",
]


def write_report(
    report: Report,
    out: str | Path,
    *,
    pdf: bool = True,
    slides: str | Path | None = None,
    page_size: str = "A4",
    browser: Any = None,
) -> list[Path]:
    """Write ``out``.html (and ``out``.pdf, and the slides into ``slides``); returns the paths.

    ``out`` may end in .html; the PDF goes beside it with the same stem. ``browser``: a
    Playwright browser to print with (default: launch Chromium for the print).
    """
    base = Path(out)
    if base.suffix.lower() in (".html", ".pdf"):
        base = base.with_suffix("")
    html_path, pdf_path = base.with_name(base.name + ".html"), base.with_name(base.name + ".pdf")
    html_path.write_text(render_html(report), encoding="utf-8")
    written = [html_path]
    if not pdf:
        return written + (write_slides(report, slides) if slides is not None else [])
    if slides is None or browser is not None:
        written.append(write_pdf(html_path, pdf_path, page_size=page_size, browser=browser))
        return written + (write_slides(report, slides) if slides is not None else [])
    # Chromium prints in its own process while the slides are drawn here: the two overlap
    with ThreadPoolExecutor(max_workers=1) as pool:
        printing = pool.submit(write_pdf, html_path, pdf_path, page_size=page_size)
        slide_files = write_slides(report, slides)
        written.append(printing.result())
    return written + slide_files
