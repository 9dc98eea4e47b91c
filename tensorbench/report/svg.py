"""Charts as SVG text that can sit side by side in one HTML page, and as 16:9 slide frames.

vl-convert renders a Vega-Lite spec without a browser or a network. Its SVG is deterministic,
but ids such as clip paths and gradients restart in every chart: inline in one HTML page they
would collide (``url(#clip1)`` would point at the first chart's clip), so every id is prefixed
with the figure's own name.
"""

from __future__ import annotations

import re
from typing import Any

import altair as alt

from ..charts import style

SLIDE_WIDTH, SLIDE_HEIGHT = 1920, 1080
_SLIDE_MARGIN = 40

# Fixed locales, and no external data: the same spec gives the same text anywhere.
_RENDER_OPTIONS: dict[str, Any] = {
    "allowed_base_urls": [],
    "format_locale": "en-US",
    "time_format_locale": "en-US",
}

_ID = re.compile(r'\bid="([^"]+)"')
_SIZE = re.compile(r'<svg\b[^>]*?\bwidth="([\d.]+)"[^>]*?\bheight="([\d.]+)"')


def render_svg(chart: alt.TopLevelMixin, theme: str = "screen") -> str:
    """``chart`` in the ``theme`` look as SVG text (vl-convert; no browser, no network)."""
    import vl_convert as vlc

    # validate=False: the chart functions build valid specs (tested in tests/test_charts.py);
    # validating every spec again costs about as much as drawing it
    spec = style(chart, theme).to_dict(validate=False)
    return vlc.vegalite_to_svg(spec, **_RENDER_OPTIONS)


def prefix_ids(svg: str, prefix: str) -> str:
    """``svg`` with its ids renamed ``<prefix>-1``, ``<prefix>-2``, ... in order of appearance,
    and every reference to them (``url(#id)``, ``href="#id"``) to match.

    Renumbering also removes vl-convert's per-process counters (``gradient_0`` in the first
    chart with a gradient legend, ``gradient_1`` in the next), which would otherwise make a
    chart's text depend on what was rendered before it.
    """
    names: dict[str, str] = {}
    for name in _ID.findall(svg):
        names.setdefault(name, f"{prefix}-{len(names) + 1}")
    if not names:
        return svg
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    pattern = re.compile(rf'(\bid="|url\(#|href="#)({alternatives})(?=[")])')
    return pattern.sub(lambda m: m.group(1) + names[m.group(2)], svg)


def svg_size(svg: str) -> tuple[float, float]:
    """(width, height) of the outer ``<svg>`` element."""
    match = _SIZE.search(svg)
    if match is None:
        raise ValueError("SVG without width and height")
    return float(match.group(1)), float(match.group(2))


def slide_frame(svg: str) -> str:
    """``svg`` scaled to fit, centred on a white 1920 x 1080 (16:9) slide."""
    width, height = svg_size(svg)
    box_w, box_h = SLIDE_WIDTH - 2 * _SLIDE_MARGIN, SLIDE_HEIGHT - 2 * _SLIDE_MARGIN
    scale = min(box_w / width, box_h / height)
    w, h = width * scale, height * scale
    x, y = (SLIDE_WIDTH - w) / 2, (SLIDE_HEIGHT - h) / 2
    inner = re.sub(r"^<\?xml[^>]*>\s*", "", svg)
    # the chart keeps its own viewBox; the nested <svg> places and scales it
    inner = inner.replace(
        "<svg ",
        f'<svg x="{x:.2f}" y="{y:.2f}" ',
        1,
    )
    inner = re.sub(
        r'(<svg\b[^>]*?)\bwidth="[\d.]+"([^>]*?)\bheight="[\d.]+"',
        rf'\1width="{w:.2f}"\2height="{h:.2f}"',
        inner,
        count=1,
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'version="1.1" width="{SLIDE_WIDTH}" height="{SLIDE_HEIGHT}" '
        f'viewBox="0 0 {SLIDE_WIDTH} {SLIDE_HEIGHT}">'
        f'<rect width="{SLIDE_WIDTH}" height="{SLIDE_HEIGHT}" fill="white"/>{inner}</svg>\n'
    )


def svg_to_png(svg: str) -> bytes:
    """PNG of ``svg`` at its own pixel size (a slide frame: 1920 x 1080)."""
    import vl_convert as vlc

    return vlc.svg_to_png(svg, scale=1.0)
