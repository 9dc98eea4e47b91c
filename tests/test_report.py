"""tensorbench.report and `tensorbench report`: sections the data supports, the summary's
winners, determinism, self-contained HTML and 16:9 slides (no browser here: see
test_report_browser.py for the page in Chromium and the PDF)."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

from tensorbench.cli import main
from tensorbench.errors import InputError
from tensorbench.report import Figure, Paragraph, build_report, render_html, write_report
from tensorbench.report.svg import prefix_ids, slide_frame, svg_size
from tensorbench.workloads import work_model

REPO = Path(__file__).resolve().parents[1]
BACKENDS = ("numpy:cpu", "torch:cpu", "jax:cpu")


@pytest.fixture(scope="module")
def synthetic(synthetic_results) -> Path:
    return synthetic_results(
        commits=15, regression=1.5, backends=BACKENDS, sizes=(64, 256, 1024), threads=(1, 2)
    )


@pytest.fixture(scope="module")
def report(synthetic: Path):
    return build_report(synthetic, work_model=work_model)


@pytest.fixture(scope="module")
def page(report) -> str:
    return render_html(report)


def section(report, slug: str):
    return next(s for s in report.sections if s.slug == slug)


def texts(sec) -> str:
    return " ".join(b.text for b in sec.blocks if isinstance(b, Paragraph))


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_sections_of_a_tensorbench_database(report) -> None:
    slugs = [s.slug for s in report.sections]
    assert slugs == [
        "summary",
        "environments",
        "heatmap",
        "workloads",
        "threads",
        "roofline",
        "regressions",
        "methods",
    ]
    fig_slugs = [f.slug for f in report.figures()]
    assert len(fig_slugs) == len(set(fig_slugs))
    assert "speedup-heatmap" in fig_slugs and "thread-scaling" in fig_slugs
    for workload in ("matmul", "conv2d"):
        assert f"{workload}-compare-float32-size1024" in fig_slugs
        assert f"{workload}-scaling-float32" in fig_slugs


def test_every_figure_names_its_source(report) -> None:
    for fig in report.figures():
        assert re.search(r"commits? [0-9a-f]{8}", fig.source), fig.source
        assert "bench_array." in fig.source and "machine" in fig.source


def test_summary_names_the_fastest_with_margin_and_confidence(report) -> None:
    # synthetic speeds: torch 60, jax 55, numpy 40 GFLOP/s (1 % noise, +-2 % intervals)
    table = next(b for b in section(report, "summary").blocks if hasattr(b, "rows"))
    rows = {r[0]: dict(zip(table.columns, r, strict=True)) for r in table.rows}
    assert set(rows) == {"matmul", "conv2d"}
    matmul = rows["matmul"]
    assert matmul["fastest"] == "torch:cpu"
    assert matmul["parameters"] == "size=1024, dtype=float32"
    margin = float(re.match(r"([\d.]+)× over jax:cpu", matmul["margin"]).group(1))
    assert margin == pytest.approx(60 / 55, rel=0.04)
    assert matmul["confidence"] == "99 % intervals separate"
    assert "mode: asv-managed env, suite synthetic" in matmul["caveats"]


def test_open_regression_is_listed_and_drawn(report) -> None:
    # the synthetic database's last workload (conv2d) regresses on its first backend
    assert report.facts["open_regressions"] >= 1
    regs = section(report, "regressions")
    table = next(b for b in regs.blocks if hasattr(b, "rows"))
    assert any(r[0] == "bench_array.Conv2D.time_conv2d" and "numpy:cpu" in r[1] for r in table.rows)
    history = [b for b in regs.blocks if isinstance(b, Figure)]
    assert history and history[0].slug.startswith("history-bench-array.conv2d.time-conv2d")


def test_methods_come_from_the_records(report) -> None:
    text = texts(section(report, "methods"))
    assert "synchronize inside the timed region" in text
    assert "harness 1 (no harness record)" in text  # the synthetic files carry none
    assert "amd" not in text and "laptop: 2" in text  # threads per machine, as recorded
    assert "tolerances were not given" in text  # build_report called without tolerances


def test_roofline_section_says_why_it_draws_nothing(report) -> None:
    assert "No roofline: no machine records a measured ceiling" in texts(
        section(report, "roofline")
    )


def test_roofline_section_draws_the_chart_given_a_ceiling_and_a_model(synthetic) -> None:
    from dataclasses import replace

    from tensorbench.analysis.results import load_results
    from tensorbench.report.sections import roofline_section
    from tensorbench.workloads import roofline_model

    db = load_results(synthetic)
    with_peak = replace(
        db,
        machines={
            m: {**f, "peak_gflops": 500.0, "peak_gbps": 20.0} for m, f in db.machines.items()
        },
    )
    drawn = roofline_section(with_peak, db.table, roofline_model)
    figures = [b for b in drawn.blocks if isinstance(b, Figure)]
    assert [f.slug for f in figures] == ["roofline"]
    spec = figures[0].chart.to_dict()
    assert "compute 500 GFLOP/s" in str(spec) and "memory 20 GB/s" in str(spec)  # both roofs
    assert "500 GFLOP/s" in texts(drawn)
    # without the workloads' model the section says so instead of drawing
    assert "No roofline chart" in texts(roofline_section(with_peak, db.table, None))


def test_html_is_self_contained_and_deterministic(synthetic, page) -> None:
    again = render_html(build_report(synthetic, work_model=work_model))
    assert page == again
    assert page.count("<figure ") == page.count("<svg ") > 5
    assert "<script" not in page and not re.search(r"(src|href)=\"(https?:)?//", page)
    # ids are unique across the inline charts (a shared id would clip the wrong chart)
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))


def test_prefix_ids_renames_definitions_and_references() -> None:
    svg = (
        '<svg><clipPath id="clip12"/><linearGradient id="gradient_3"/><g clip-path="url(#clip12)"'
        ' fill="url(#gradient_3)"/><use href="#clip12"/><text>clip12</text></svg>'
    )
    assert prefix_ids(svg, "f3") == (
        '<svg><clipPath id="f3-1"/><linearGradient id="f3-2"/><g clip-path="url(#f3-1)"'
        ' fill="url(#f3-2)"/><use href="#f3-1"/><text>clip12</text></svg>'
    )


def test_slide_frame_is_16_by_9() -> None:
    framed = slide_frame('<svg xmlns="http://www.w3.org/2000/svg" width="400" height="100"/>')
    assert svg_size(framed) == (1920, 1080)
    assert 'width="1840.00" height="460.00"' in framed  # scaled to the width, centred


def test_commit_and_workload_filters(synthetic) -> None:
    from tensorbench.analysis.results import load_results

    table = load_results(synthetic).table
    first = table.sort_values("commit_order")["commit"].iloc[0]
    early = build_report(synthetic, commit=str(first)[:7], workloads=["matmul"])
    assert early.facts["open_regressions"] == 0  # the regression comes later
    assert "as of" in early.subtitle
    headings = [b.text for b in section(early, "workloads").blocks if hasattr(b, "text")]
    assert "matmul" in headings and "conv2d" not in headings
    with pytest.raises(InputError, match="unknown workload 'nope'"):
        build_report(synthetic, workloads=["nope"])
    with pytest.raises(InputError, match="no result commit starts with 'zzz'"):
        build_report(synthetic, commit="zzz")


def test_cli_writes_html_and_slides(synthetic, tmp_path, capsys) -> None:
    slides = tmp_path / "slides"
    code = main(
        ["report", "--results", str(synthetic), "--out", str(tmp_path / "r"), "--no-pdf"]
        + ["--slides", str(slides), "--workloads", "matmul"]
    )
    assert code == 0
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Which framework for which workload" in html
    svgs = sorted(slides.glob("*.svg"))
    pngs = sorted(slides.glob("*.png"))
    assert len(svgs) == len(pngs) == html.count("<figure ")
    assert svgs[0].name == "01-speedup-heatmap.svg"
    assert all(png_size(p) == (1920, 1080) for p in pngs)
    assert all(svg_size(p.read_text()) == (1920, 1080) for p in svgs)
    index = (slides / "index.html").read_text(encoding="utf-8")
    assert all(p.name in index for p in svgs + pngs)
    assert "wrote" in capsys.readouterr().out


def test_cli_bad_input_exits_2(synthetic, tmp_path, capsys) -> None:
    code = main(
        ["report", "--results", str(synthetic), "--out", str(tmp_path / "r")]
        + ["--machine", "nope", "--no-pdf"]
    )
    assert code == 2
    assert "unknown machine 'nope' (valid: laptop)" in capsys.readouterr().err


def test_project_results(tmp_path) -> None:
    results = REPO / "results"
    if not results.is_dir():
        pytest.skip("no results/ in this checkout")
    report = build_report(results, work_model=work_model)
    assert report.facts["verdicts"] >= 5  # one per workload and device measured
    assert "Measured ceilings" in texts(section(report, "roofline")) or any(
        isinstance(b, Figure) for b in section(report, "roofline").blocks
    )
    env = section(report, "environments")
    rows = [r for b in env.blocks if hasattr(b, "rows") for r in b.rows]
    assert any(re.search(r"\w+ kernel", " ".join(r)) for r in rows)  # BLAS and the kernel it runs
    assert write_report(report, tmp_path / "r", pdf=False) == [tmp_path / "r.html"]


@pytest.mark.parametrize(
    ("name", "has_params"),
    [
        ("openblas-benchmarks", True),
        ("kedro-benchmark-results", True),
        ("conda-benchmarks-v1", False),
    ],
)
def test_foreign_databases(shared_data, name, has_params) -> None:
    report = build_report(shared_data / "asv-results" / name)
    assert texts(section(report, "heatmap")).startswith("No heatmap")
    assert "No framework comparison" in texts(section(report, "summary"))
    assert "not written by tensorbench" in texts(section(report, "methods"))
    bench = section(report, "benchmarks")
    drawn = [b for b in bench.blocks if isinstance(b, Figure)]
    assert bool(drawn) == has_params
    assert "roofline" not in [s.slug for s in report.sections]
