"""Every chart of a report as a 16:9 slide: SVG and 1920 x 1080 PNG in the talk look, plus an
index page that lists them with what each shows and where its numbers come from."""

from __future__ import annotations

import html
from pathlib import Path

from .content import Report
from .svg import render_svg, slide_frame, svg_to_png


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
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
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
