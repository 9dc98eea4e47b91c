"""The report as one self-contained HTML file: inline SVG charts, inline CSS, no script.

Nothing is fetched when the page is viewed (no script, font, image or style from anywhere),
so it opens offline and prints as vector graphics. The text is a pure function of the
:class:`~.content.Report`: no clock, no random ids.
"""

from __future__ import annotations

import html
import re

from .content import Figure, Heading, Paragraph, Report, Table
from .svg import prefix_ids, render_svg

CSS = """
:root { --ink: #1b1b1b; --muted: #5b5b5b; --rule: #d9d9d9; }
* { box-sizing: border-box; }
body { font-family: "Liberation Sans", Arial, Helvetica, sans-serif; color: var(--ink);
  max-width: 1180px; margin: 0 auto; padding: 24px; line-height: 1.45; font-size: 14px; }
h1 { font-size: 26px; margin: 0 0 6px; }
h2 { font-size: 20px; border-bottom: 2px solid var(--ink); padding-bottom: 3px; margin-top: 34px; }
h3 { font-size: 16px; margin: 22px 0 6px; }
.subtitle { color: var(--muted); margin: 0 0 12px; }
nav ol { columns: 2; padding-left: 20px; margin: 6px 0 0; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; background: #f3f3f3;
  padding: 0 3px; }
table { border-collapse: collapse; width: 100%; font-size: 11.5px; margin: 8px 0 4px; }
th, td { border-bottom: 1px solid var(--rule); padding: 3px 6px; text-align: left;
  vertical-align: top; overflow-wrap: break-word; }
th { border-bottom: 1.5px solid var(--ink); }
caption { caption-side: bottom; text-align: left; color: var(--muted); font-size: 11px;
  padding-top: 3px; }
figure { margin: 14px 0 20px; break-inside: avoid; }
figure .chart svg { max-width: 100%; height: auto; display: block; }
figcaption { font-size: 12px; color: var(--muted); margin-top: 4px; }
figcaption strong { color: var(--ink); }
@page { size: A4; margin: 14mm 12mm 16mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 12px; }
  section { break-before: page; }
  section:first-of-type { break-before: auto; }
  h2, h3 { break-after: avoid; }
  tr { break-inside: avoid; }
  thead { display: table-header-group; }
}
"""

_CODE = re.compile(r"`([^`]+)`")


def _text(text: str) -> str:
    """Escaped text, with `backticked` parts as <code>."""
    return _CODE.sub(r"<code>\1</code>", html.escape(text, quote=False))


def figure_html(fig: Figure, number: int, svg: str) -> str:
    return (
        f'<figure id="fig-{fig.slug}" data-slug="{fig.slug}">'
        f'<div class="chart">{svg}</div>'
        f"<figcaption><strong>Figure {number}. {_text(fig.title)}.</strong> "
        f'<span class="source">Source: {_text(fig.source)}.</span></figcaption></figure>'
    )


def _table_html(table: Table) -> str:
    head = "".join(f"<th>{_text(c)}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_text(str(v))}</td>" for v in row) + "</tr>" for row in table.rows
    )
    caption = f"<caption>{_text(table.caption)}</caption>" if table.caption else ""
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(report: Report, svgs: dict[str, str] | None = None) -> str:
    """The whole page. ``svgs`` (slug -> SVG text) reuses charts already rendered."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_text(report.title)}</title>",
        '<meta name="generator" content="tensorbench report">',
        f"<style>{CSS}</style></head><body>",
        f"<header><h1>{_text(report.title)}</h1>",
        f'<p class="subtitle">{_text(report.subtitle)}</p>',
        "<nav><strong>Contents</strong><ol>",
        *[f'<li><a href="#{s.slug}">{_text(s.title)}</a></li>' for s in report.sections],
        "</ol></nav></header>",
    ]
    number = 0
    for section in report.sections:
        parts.append(f'<section id="{section.slug}"><h2>{_text(section.title)}</h2>')
        for block in section.blocks:
            if isinstance(block, Paragraph):
                parts.append(f"<p>{_text(block.text)}</p>")
            elif isinstance(block, Heading):
                parts.append(f"<h3>{_text(block.text)}</h3>")
            elif isinstance(block, Table):
                parts.append(_table_html(block))
            elif isinstance(block, Figure):
                number += 1
                svg = (svgs or {}).get(block.slug) or render_svg(block.chart, "screen")
                parts.append(figure_html(block, number, prefix_ids(svg, f"f{number}")))
        parts.append("</section>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
