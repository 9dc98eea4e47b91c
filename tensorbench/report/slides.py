"""Every chart of a report as a 16:9 slide: SVG and 1920 x 1080 PNG in the talk look, plus an
index page that lists them with what each shows and where its numbers come from."""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

from .content import Report
from .svg import render_svg, slide_frame, svg_to_png

# Marks an index.html as the report's own: only the files such an index lists are ever removed.
GENERATOR = '<meta name="generator" content="tensorbench report">'
_OLD_TITLE = "<title>Slides: tensorbench report"  # indexes written before the marker existed
_LISTED = re.compile(r'(?:href|src)="(\d{2,}-[a-z0-9.-]+\.(?:svg|png))"')


def write_slides(report: Report, folder: str | Path) -> list[Path]:
    """Write ``NN-<what it shows>.svg`` and ``.png`` per figure and ``index.html``; returns
    the files written (the index last)."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    items = []
    for number, fig in enumerate(report.figures(), start=1):
        stem = f"{number:02d}-{fig.slug}"
        frame = slide_frame(render_svg(fig.chart, "talk"))
        svg_path, png_path = out / f"{stem}.svg", out / f"{stem}.png"
        svg_path.write_text(frame, encoding="utf-8")
        png_path.write_bytes(svg_to_png(frame))
        written += [svg_path, png_path]
        items.append(
            f'<li><a href="{stem}.svg"><img src="{stem}.png" width="480" height="270" alt=""></a>'
            f"<p><strong>{number}. {html.escape(fig.title)}</strong><br>"
            f'<a href="{stem}.svg">{stem}.svg</a> · <a href="{stem}.png">{stem}.png</a><br>'
            f"<small>Source: {html.escape(fig.source)}</small></p></li>"
        )
    index = out / "index.html"
    index.write_text(
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">{GENERATOR}'
        f"<title>Slides: {html.escape(report.title)}</title><style>"
        "body{font-family:Liberation Sans,Arial,sans-serif;margin:24px}"
        "ol{list-style:none;padding:0}li{display:flex;gap:16px;margin:0 0 18px}"
        "img{border:1px solid #ccc}</style></head><body>"
        f"<h1>Slides: {html.escape(report.title)}</h1>"
        f"<p>{len(items)} charts, 1920 × 1080 (16:9), SVG and PNG.</p>"
        f"<ol>{''.join(items)}</ol></body></html>\n",
        encoding="utf-8",
    )
    written.append(index)
    return written


def previous_slides(folder: Path) -> set[str]:
    """The slide files an earlier report's index in ``folder`` lists (none when the index is
    missing or not the report's own)."""
    try:
        text = (folder / "index.html").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    if GENERATOR not in text and _OLD_TITLE not in text:
        return set()
    return set(_LISTED.findall(text))


def install_slides(stage: Path, folder: Path, names: list[str]) -> list[Path]:
    """Move the slides written into ``stage`` (``names``, the index last) into ``folder``, and
    remove the slides an earlier report wrote there that ``names`` does not list."""
    if not folder.exists():  # a new folder: the whole set in one rename
        folder.parent.mkdir(parents=True, exist_ok=True)
        os.rename(stage, folder)
        return [folder / name for name in names]
    stale = previous_slides(folder) - set(names)
    for name in names:
        os.replace(stage / name, folder / name)
    for name in sorted(stale):
        path = folder / name
        if path.is_file() and not path.is_symlink():
            path.unlink(missing_ok=True)
    return [folder / name for name in names]
