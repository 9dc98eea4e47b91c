"""Write charts as SVG, PNG or PDF with vl-convert (no browser, no server)."""

from __future__ import annotations

from pathlib import Path

import altair as alt

from ..errors import InputError
from .theme import style

EXPORT_FORMATS = ("svg", "png", "pdf")


def chart_bytes(
    chart: alt.TopLevelMixin, fmt: str, theme: str = "talk", scale: float = 2.0
) -> bytes:
    """``chart`` rendered by vl-convert as SVG, PNG (``scale`` x pixels) or PDF bytes."""
    import vl_convert as vlc

    fmt = fmt.lower().lstrip(".")
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"unsupported chart format {fmt!r} (valid: {', '.join(EXPORT_FORMATS)})")
    spec = style(chart, theme).to_json()
    if fmt == "svg":
        return vlc.vegalite_to_svg(spec).encode()
    if fmt == "png":
        return vlc.vegalite_to_png(spec, scale=scale)
    return vlc.vegalite_to_pdf(spec)


def save_chart(chart: alt.TopLevelMixin, path: str | Path, theme: str = "talk") -> Path:
    """Write ``chart`` to ``path``; the format comes from its extension (.svg, .png, .pdf)."""
    out = Path(path)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"unsupported output {out.name!r}: use .svg, .png or .pdf")
    data = chart_bytes(chart, fmt, theme)
    out.write_bytes(data)
    return out
