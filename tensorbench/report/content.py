"""What a report holds, independent of how it is written: sections of paragraphs, tables and
figures. The HTML, the PDF and the slides are all drawn from one :class:`Report`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import altair as alt


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Heading:
    """A sub-heading inside a section (e.g. one workload)."""

    text: str


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[str]]
    caption: str = ""


@dataclass(frozen=True)
class Figure:
    """One chart: ``slug`` names the slide files, ``source`` says where its numbers come from
    (benchmark, parameters, commits, machine)."""

    slug: str
    title: str
    chart: alt.TopLevelMixin
    source: str


Block = Paragraph | Heading | Table | Figure


@dataclass
class Section:
    slug: str
    title: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, block: Block) -> Section:
        self.blocks.append(block)
        return self


@dataclass
class Report:
    title: str
    subtitle: str
    sections: list[Section]
    facts: dict[str, Any] = field(default_factory=dict)  # counts the tests and the CLI print

    def figures(self) -> list[Figure]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Figure)]


def slugify(*parts: Any) -> str:
    """'matmul', 'compare', 'float32' -> 'matmul-compare-float32' (file-name safe)."""
    text = "-".join(str(p) for p in parts if p not in (None, ""))
    text = re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-.").lower()
    return text or "figure"
