"""encode-times: medians per (width, format), the report's two tables, and a real run of the child loop."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from bench.options import BenchOptions
from bench.report import RunRecord, render_markdown
from bench.results import WorkloadResult
from bench.workloads.encode_times import FORMATS, Cell, Sample, encode_tables, pick_photos, run_child, summarise
from tests.conftest import CORPUS, DEMO_IMAGES

LIMIT = 1_048_576  # max_auto_avif_pixels' default: 1280×800 is under it, 1600×1000 over


def _cell(width: int, fmt: str, run_ms: float | None, encode_ms: float | None = None) -> Cell:
    height = width * 5 // 8
    made = run_ms is not None
    return Cell(
        width=width,
        fmt=fmt,
        output=f"{width}×{height}",
        pixels=width * height,
        run_ms=run_ms,
        run_wall_ms=run_ms,
        prepare_ms=10.0 if made else None,
        encode_ms=encode_ms if made else None,
        size_bytes=2048.0 * width / 400 if made else None,
        samples=1 if made else 0,
    )


def _cells() -> list[Cell]:
    times = {"avif": 300.0, "webp": 100.0, "jpg": 20.0, "png": 50.0}
    cells = [_cell(width, fmt, times[fmt] * width / 400, times[fmt] / 2) for width in (400, 1280) for fmt in FORMATS]
    return cells + [_cell(1600, "avif", None), *(_cell(1600, fmt, times[fmt] * 4) for fmt in FORMATS[1:])]


def test_each_table_has_a_row_per_size_and_a_column_per_format() -> None:
    miss, encode = encode_tables(_cells(), LIMIT)
    assert miss["columns"] == [
        "output",
        "MP",
        "AVIF ms",
        "WebP ms",
        "JPEG ms",
        "PNG ms",
        "AVIF KiB",
        "WebP KiB",
        "JPEG KiB",
        "PNG KiB",
        "AVIF/WebP",
        "auto=format",
    ]
    assert encode["columns"] == [
        "output",
        "decode + resize ms",
        "AVIF encode ms",
        "WebP encode ms",
        "JPEG encode ms",
        "PNG encode ms",
        "AVIF/WebP",
    ]
    assert [row[0] for row in miss["rows"]] == ["400×250 (w=400)", "1280×800 (w=1280)", "1600×1000 (w=1600)"]
    assert all(len(row) == len(miss["columns"]) for row in miss["rows"])
    assert all(len(row) == len(encode["columns"]) for row in encode["rows"])
    assert miss["rows"][1][1:6] == ["1.02", "960.0", "320.0", "64.0", "160.0"]
    assert miss["rows"][1][-2] == "3.0x" and encode["rows"][1][-1] == "3.0x"
    assert encode["rows"][0][1:3] == ["10.0", "150.0"]
    # The AVIF cell of a size its cap refuses says so instead of a number, and no ratio is made of it.
    assert miss["rows"][2][2] == "refused" and miss["rows"][2][-2] == "-"


def test_the_current_setting_marks_the_sizes_auto_format_answers_as_avif() -> None:
    marks = [row[-1] for row in encode_tables(_cells(), LIMIT)[0]["rows"]]
    assert marks == ["**AVIF**", "**AVIF**", "WebP"]
    lower = [row[-1] for row in encode_tables(_cells(), 1_000_000)[0]["rows"]]
    assert lower == ["**AVIF**", "WebP", "WebP"]
    assert "max_auto_avif_pixels = 1,000,000" in encode_tables(_cells(), 1_000_000)[0]["title"]


def test_cells_are_medians_over_photos_and_repeats() -> None:
    def sample(photo: str, height: int, run_ms: float) -> Sample:
        return Sample(photo, 1280, "webp", 1280, height, run_ms, run_ms * 2, 5.0, run_ms - 5, int(run_ms * 100))

    samples = [sample("a.jpg", 800, ms) for ms in (10.0, 30.0, 20.0)] + [sample("b.jpg", 853, 40.0)]
    refused = Sample("a.jpg", 1280, "avif", 0, 0, None, None, None, None, None)
    cells = summarise([*samples, refused])
    assert [(cell.width, cell.fmt) for cell in cells] == [(1280, "avif"), (1280, "webp")]
    webp = cells[1]
    assert (webp.run_ms, webp.run_wall_ms, webp.encode_ms, webp.size_bytes) == (25.0, 50.0, 20.0, 2500.0)
    assert webp.output == "1280×800-853" and webp.samples == 4
    assert cells[0].run_ms is None and cells[0].samples == 0


def test_the_report_shows_the_tables_instead_of_a_server_table() -> None:
    result = WorkloadResult("encode-times", "ms per transform", 1, extra={"tables": encode_tables(_cells(), LIMIT)})
    options = BenchOptions(Path("."), 1.0, 1, None, 1, 1, 2, Path("."))
    record = RunRecord(datetime(2026, 1, 1, tzinfo=UTC), options, {}, [result], [], {})
    section = render_markdown(record).split("## encode-times", 1)[1].split("## Targets", 1)[0]
    assert "| server |" not in section
    lines = [line for line in section.splitlines() if line.startswith("|")]
    assert lines[0].startswith("| output | MP | AVIF ms |") and lines[1] == "| --- |" + " ---: |" * 11
    assert lines[2].startswith("| 400×250 (w=400) | 0.10 |") and lines[4].endswith("| WebP |")
    assert lines[5].startswith("| output | decode + resize ms |") and len(lines) == 10


def test_the_child_loop_makes_every_format_through_the_real_pipeline(tmp_path: Path) -> None:
    corpus = CORPUS if CORPUS.is_dir() else DEMO_IMAGES
    photos = pick_photos(corpus)
    assert len(photos) == 2
    budget = {"max_avif_pixels": 20_000}  # 160×100 passes, 240×150 is over: refused, as the gateway would
    spec = {
        "corpus": str(corpus),
        "photos": photos[:1],
        "widths": [160, 240],
        "formats": list(FORMATS),
        "repeats": 1,
        "budget": budget,
        "vips_concurrency": 1,
        "scale_on_load": "fast",
    }
    samples = {(s.width, s.fmt): s for s in run_child(spec, tmp_path)}
    assert set(samples) == {(width, fmt) for width in (160, 240) for fmt in FORMATS}
    for (width, fmt), sample in samples.items():
        if (width, fmt) == (240, "avif"):
            assert sample.run_ms is None and sample.size_bytes is None
            continue
        assert sample.out_width == width and sample.out_height > 0
        assert sample.run_ms and sample.encode_ms and sample.prepare_ms and sample.size_bytes
    small = {fmt: samples[(160, fmt)] for fmt in FORMATS}
    sizes = {fmt: sample.size_bytes or 0 for fmt, sample in small.items()}
    assert sizes["avif"] < sizes["jpg"] < sizes["png"]  # each format really was written
    tables = encode_tables(summarise(list(samples.values())), 20_000)
    assert [row[-1] for row in tables[0]["rows"]] == ["**AVIF**", "WebP"]
    assert asdict(small["png"])["photo"] == photos[0]
