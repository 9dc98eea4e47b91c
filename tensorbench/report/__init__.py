"""A self-contained, talk-ready report of an asv results database: HTML, PDF, slides.

Uses :mod:`tensorbench.analysis` for the numbers and :mod:`tensorbench.charts` for the
figures; imports no framework and no workload (the work model and the validation tolerances
come from the caller). Basic usage::

    report = build_report("results", work_model=work_model)
    write_report(report, "out/report", slides="out/slides")   # report.html, report.pdf
"""

from __future__ import annotations

import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..errors import InputError
from .build import build_report
from .content import Figure, Heading, Paragraph, Report, Section, Table
from .html import render_html
from .pdf import PAGE_SIZES, write_pdf
from .slides import install_slides, write_slides
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
    "output_paths",
    "render_html",
    "render_svg",
    "write_pdf",
    "write_report",
    "write_slides",
]


def output_paths(out: str | Path) -> tuple[Path, Path]:
    """The HTML and PDF paths ``out`` names (it may end in .html or .pdf); raises
    :class:`InputError` when ``out`` names no file (empty, ``.``, ``/``, a folder)."""
    base = Path(out)
    if base.suffix.lower() in (".html", ".pdf"):
        base = base.with_suffix("")
    example = "give a path such as out/report (writes out/report.html and out/report.pdf)"
    if str(out) == "":
        raise InputError(f"--out '': empty; {example}")
    if base.name in ("", ".", "..") or base.is_dir():
        raise InputError(f"--out {str(out)!r}: names a folder, not a file; {example}")
    return base.with_name(base.name + ".html"), base.with_name(base.name + ".pdf")


def _staging(target: Path, flag: str) -> Path:
    """A temporary folder in the nearest existing folder above ``target``: the same file system,
    so moving out of it is a rename, and nothing is created on the way until the end."""
    above = target.absolute().parent
    while not above.exists() and above != above.parent:
        above = above.parent
    try:
        return Path(tempfile.mkdtemp(prefix=".tensorbench-report-", dir=above))
    except OSError as exc:
        raise InputError(f"{flag} {target}: cannot write there ({exc.strerror or exc})") from None


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

    All or nothing: every file is written into temporary folders beside its destination and
    moved into place only once all of them exist, so a failure (Chromium missing, a full disk,
    Ctrl-C) leaves the previous report, PDF and slides as they were; the temporary folders are
    removed however this ends. Slides an earlier report wrote there that this one does not
    list are removed (nothing else in the folder is touched).
    """
    html_path, pdf_path = output_paths(out)
    slide_dir = Path(slides) if slides is not None else None
    if slide_dir is not None and slide_dir.exists() and not slide_dir.is_dir():
        raise InputError(f"--slides {slide_dir}: is a file; name a folder")
    if slide_dir is not None and html_path.absolute() == (slide_dir / "index.html").absolute():
        raise InputError(f"--out and --slides would both write {html_path}")
    staging: Path | None = None
    slide_stage: Path | None = None
    try:
        staging = _staging(html_path, "--out")
        slide_stage = _staging(slide_dir, "--slides") if slide_dir is not None else None
        staged_html = staging / html_path.name
        staged_html.write_text(render_html(report), encoding="utf-8")
        staged_pdf = staging / pdf_path.name
        slide_files: list[Path] = []
        if not pdf:
            slide_files = write_slides(report, slide_stage) if slide_stage is not None else []
        elif slide_stage is None or browser is not None:
            write_pdf(staged_html, staged_pdf, page_size=page_size, browser=browser)
            slide_files = write_slides(report, slide_stage) if slide_stage is not None else []
        else:
            # Chromium prints in its own process while the slides are drawn here: the two overlap
            with ThreadPoolExecutor(max_workers=1) as pool:
                printing = pool.submit(write_pdf, staged_html, staged_pdf, page_size=page_size)
                slide_files = write_slides(report, slide_stage)
                printing.result()
        # everything exists: into place, the slides first and the page that links them last
        written: list[Path] = []
        if slide_dir is not None and slide_stage is not None:
            written += install_slides(slide_stage, slide_dir, [p.name for p in slide_files])
        if pdf:
            os.replace(staged_pdf, pdf_path)
        os.replace(staged_html, html_path)
        return [html_path, *([pdf_path] if pdf else []), *written]
    finally:
        for folder in (staging, slide_stage):
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
