"""Workload 5b: `encode-times`, what each output format costs at each output size, through imgate's own pipeline.

``auto=format`` answers AVIF only up to ``max_auto_avif_pixels`` output pixels and WebP above, because AVIF's
encode grows slow on large outputs. This table is where that default is checked: for a few corpus photos, each
width of ``WIDTHS`` in each format of ``FORMATS`` is made by ``transforms.pipeline.run`` (the miss a visitor
waits for: decode with shrink-on-load, resize, encode), and again with the pixels computed into memory first,
so the encode step is timed alone. Medians per (format, output size), with the bytes, and the rows the current
setting sends to AVIF marked.

Times are the child's CPU time (``time.process_time``) per transform: with one libvips thread, and the AV1
encoder working on one thread too (measured per thread), that is the wall time a transform takes on a free core,
and unlike the wall time it does not grow when other programs take the cores (on the shared two-core machine
this was written on, wall times were two to three times the CPU times and jumped between repeats). Wall-clock
medians are kept in the JSON (``run_wall_ms``).

The loop runs in a child process (``python -c`` calling ``child_main``), configured as a gateway worker is
(``transforms.vips.configure`` with the gateway's ``vips_concurrency``, scale-on-load mode, operation cache
off), one transform at a time: the harness's own libvips keeps its defaults, and a time here is one thread's
work, which is what a miss costs a worker. Formats alternate within each (photo, width) so a neighbour's
passing load weighs on all of them alike.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.cpu import ForeignCpuMeter
from bench.jobs import photos
from bench.options import REPO
from bench.progress import log
from bench.registry import workload
from bench.results import WorkloadResult
from bench.session import BenchSession

PHOTOS = 2  # corpus photos timed, spread over file size: all six would take three times as long, to say the same
WIDTHS = (400, 800, 1280, 1600, 1920)
FORMATS = ("avif", "webp", "jpg", "png")
FORMAT_NAMES = {"avif": "AVIF", "webp": "WebP", "jpg": "JPEG", "png": "PNG"}
CHILD_TIMEOUT_S = 900
_CHILD = "import sys; from bench.workloads.encode_times import child_main; sys.exit(child_main(sys.argv[1:]))"


@dataclass(frozen=True)
class Sample:
    """One (photo, width, format) made once: by the whole pipeline, and with the encode step timed alone."""

    photo: str
    width: int
    fmt: str
    out_width: int
    out_height: int
    run_ms: float | None  # None: refused by an output cap (the setting's own refusal, shown as such)
    run_wall_ms: float | None
    prepare_ms: float | None  # decode + resize + the other steps, pixels computed into memory
    encode_ms: float | None  # the encode step alone, on those pixels
    size_bytes: int | None


@dataclass(frozen=True)
class Cell:
    """The medians of one (width, format) over photos and repeats."""

    width: int
    fmt: str
    output: str  # "1280×800", or "1280×800-853" when the photos' shapes differ
    pixels: int
    run_ms: float | None
    run_wall_ms: float | None
    prepare_ms: float | None
    encode_ms: float | None
    size_bytes: float | None
    samples: int  # made ones; refused by an output cap is not counted


@workload("encode-times", rank=55, group="encode")
def encode_times(session: BenchSession) -> WorkloadResult | None:
    options = session.options
    names = pick_photos(options.corpus)
    if not names:
        log("encode-times: skipped, no photo-*.jpg in the corpus")
        return None
    limit, spec, setting_note = _spec(options.corpus, names, options.repeats)
    title = (
        f"ms per transform and per encode, by output format and size ({len(names)} photos x {options.repeats} "
        f"repeat(s), medians; one transform at a time on {spec['vips_concurrency']} libvips thread(s), as a worker)"
    )
    result = WorkloadResult("encode-times", title, 1)
    log(f"encode-times: {len(names)} photos, widths {', '.join(map(str, WIDTHS))}, formats {', '.join(FORMATS)}")
    try:
        with ForeignCpuMeter([]) as meter:  # the child's CPU reaches it through RUSAGE_CHILDREN
            samples = run_child(spec, session.work_dir)
    except RuntimeError as error:
        result.notes.append(f"not measured: {error}")
        return result
    from bench.report import BUSY_SHARE  # here: the report imports the targets, which import the workloads

    cells = summarise(samples)
    result.extra["max_auto_avif_pixels"] = limit
    result.extra["photos"] = names
    result.extra["cells"] = [asdict(cell) for cell in cells]
    result.extra["tables"] = encode_tables(cells, limit)
    result.notes += [
        f"max_auto_avif_pixels = {limit:,} ({setting_note}): auto=format answers AVIF for outputs up to that many "
        "pixels, WebP above; the auto=format column shows which each row gets",
        "ms = CPU ms of one transform on one thread (its wall time on a free core): a miss = transforms.pipeline.run "
        "with fm= and w= (decode with shrink-on-load, resize, encode); encode = the encode step alone on pixels "
        "computed into memory first; decode + resize = that first part. KiB = the answer's size. "
        "AVIF/WebP = the ratio of their medians",
        f"wall-clock medians of a miss (JSON: run_wall_ms) are {_wall_share(cells):.1f}x the CPU ones in this run "
        "(above 1: the cores were shared)",
        f"other programs used {meter.share:.0%} of the machine during the run"
        + (" (busy: CPU times move little with that, wall times a lot)" if meter.share > BUSY_SHARE else ""),
    ]
    return result


def pick_photos(corpus: Path) -> list[str]:
    """``PHOTOS`` photos spread over file size, the smallest and the largest first: the least and the most
    detail for their size, where encoders' times and bytes differ most."""
    names = sorted(photos(corpus), key=lambda name: ((corpus / name).stat().st_size, name))
    if len(names) <= PHOTOS:
        return sorted(names)
    step = (len(names) - 1) / (PHOTOS - 1)
    return sorted({names[round(index * step)] for index in range(PHOTOS)})


def _spec(corpus: Path, names: Sequence[str], repeats: int) -> tuple[int, dict[str, Any], str]:
    # The gateway's own settings (its config file and IMGATE_* variables, as the bench's gateway reads them),
    # turned into the transforms' budget by the one function the gateway uses for that.
    from gateway.delivery.render import pixel_budget
    from gateway.settings import Settings, SettingsError, load_settings

    try:
        settings, note = load_settings(), "this checkout's setting"
    except SettingsError as error:
        settings, note = Settings(), f"the default: the configured settings do not load ({error})"
    budget = pixel_budget(settings)
    spec = {
        "corpus": str(corpus),
        "photos": list(names),
        "widths": list(WIDTHS),
        "formats": list(FORMATS),
        "repeats": repeats,
        "budget": asdict(budget),
        "vips_concurrency": settings.vips_concurrency,
        "scale_on_load": settings.scale_on_load,
    }
    return budget.max_auto_avif_pixels, spec, note


def run_child(spec: dict[str, Any], work_dir: Path) -> list[Sample]:
    work_dir.mkdir(parents=True, exist_ok=True)
    spec_file = work_dir / "encode-times.json"
    spec_file.write_text(json.dumps(spec))
    try:
        done = subprocess.run(  # noqa: S603 - our own module with the running interpreter
            [sys.executable, "-c", _CHILD, str(spec_file)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as error:
        raise RuntimeError(f"the encode loop ran past {CHILD_TIMEOUT_S} s") from error
    finally:
        spec_file.unlink(missing_ok=True)
    if done.returncode != 0:
        raise RuntimeError(f"the encode loop failed: {done.stderr.strip()[-400:]}")
    return [Sample(**item) for item in json.loads(done.stdout)]


def summarise(samples: Sequence[Sample]) -> list[Cell]:
    """One cell per (width, format), in WIDTHS x FORMATS order as far as the samples have them."""
    grouped: dict[tuple[int, str], list[Sample]] = defaultdict(list)
    for sample in samples:
        grouped[(sample.width, sample.fmt)].append(sample)
    widths = sorted({width for width, _ in grouped})
    formats = [fmt for fmt in FORMATS if any(key[1] == fmt for key in grouped)]
    formats += sorted({fmt for _, fmt in grouped} - set(formats))
    return [_cell(grouped[(w, f)]) for w in widths for f in formats if (w, f) in grouped]


def _cell(samples: Sequence[Sample]) -> Cell:
    first = samples[0]
    made = [sample for sample in samples if sample.run_ms is not None]
    sized = made or samples  # a refused sample has no output size
    heights = sorted({sample.out_height for sample in sized})
    widths = sorted({sample.out_width for sample in sized})
    shape = f"{widths[0]}×{heights[0]}" if len(heights) == 1 else f"{widths[0]}×{heights[0]}-{heights[-1]}"
    return Cell(
        width=first.width,
        fmt=first.fmt,
        output=shape if len(widths) == 1 else f"{widths[0]}-{widths[-1]}×{heights[0]}-{heights[-1]}",
        pixels=int(statistics.median(sample.out_width * sample.out_height for sample in sized)),
        run_ms=_median([sample.run_ms for sample in made]),
        run_wall_ms=_median([sample.run_wall_ms for sample in made]),
        prepare_ms=_median([sample.prepare_ms for sample in made]),
        encode_ms=_median([sample.encode_ms for sample in made]),
        size_bytes=_median([sample.size_bytes for sample in made]),
        samples=len(made),
    )


def _wall_share(cells: Sequence[Cell]) -> float:
    pairs = [(cell.run_wall_ms, cell.run_ms) for cell in cells if cell.run_wall_ms and cell.run_ms]
    return statistics.median(wall / cpu for wall, cpu in pairs) if pairs else 1.0


def _median(values: Sequence[float | int | None]) -> float | None:
    present = [float(value) for value in values if value is not None]
    return statistics.median(present) if present else None


def encode_tables(cells: Sequence[Cell], max_auto_avif_pixels: int) -> list[dict[str, Any]]:
    """The report's tables (bench/report.py renders ``extra["tables"]``): first column left, the rest numbers.

    One row per output size. The first table is the miss (whole transform) with the bytes and the format
    auto=format answers at that size; the second the encode step alone beside the decode + resize it follows.
    """
    widths = sorted({cell.width for cell in cells})
    formats = [fmt for fmt in FORMATS if any(cell.fmt == fmt for cell in cells)]
    by_key = {(cell.width, cell.fmt): cell for cell in cells}
    names = [FORMAT_NAMES.get(fmt, fmt) for fmt in formats]
    ratio = "AVIF/WebP" if {"avif", "webp"} <= set(formats) else None
    miss_columns = ["output", "MP", *(f"{name} ms" for name in names), *(f"{name} KiB" for name in names)]
    encode_columns = ["output", "decode + resize ms", *(f"{name} encode ms" for name in names)]
    miss_rows: list[list[str]] = []
    encode_rows: list[list[str]] = []
    for width in widths:
        row_cells = [by_key.get((width, fmt)) for fmt in formats]
        known = max((cell for cell in row_cells if cell is not None), key=lambda cell: cell.samples)
        output = f"{known.output} (w={width})"
        miss = [output, f"{known.pixels / 1e6:.2f}"]
        miss += [_ms(cell.run_ms if cell else None) for cell in row_cells]
        miss += [_kib(cell.size_bytes if cell else None) for cell in row_cells]
        prepare = _median([cell.prepare_ms for cell in row_cells if cell is not None])
        encode = [output, _ms(prepare), *(_ms(cell.encode_ms if cell else None) for cell in row_cells)]
        if ratio:
            avif, webp = by_key.get((width, "avif")), by_key.get((width, "webp"))
            miss.append(_ratio(avif.run_ms if avif else None, webp.run_ms if webp else None))
            encode.append(_ratio(avif.encode_ms if avif else None, webp.encode_ms if webp else None))
        miss.append("**AVIF**" if known.pixels <= max_auto_avif_pixels else "WebP")
        miss_rows.append(miss)
        encode_rows.append(encode)
    if ratio:
        miss_columns.append(ratio)
        encode_columns.append(ratio)
    miss_columns.append("auto=format")
    limit = f"max_auto_avif_pixels = {max_auto_avif_pixels:,} ({max_auto_avif_pixels / 1e6:.2f} MP)"
    return [
        {
            "title": f"A miss (transforms.pipeline.run), ms and answer size; auto=format with {limit}:",
            "columns": miss_columns,
            "rows": miss_rows,
        },
        {"title": "The encode step alone:", "columns": encode_columns, "rows": encode_rows},
    ]


def _ms(value: float | None) -> str:
    return f"{value:,.1f}" if value is not None else "refused"


def _kib(value: float | None) -> str:
    return f"{value / 1024:,.1f}" if value is not None else "-"


def _ratio(mine: float | None, theirs: float | None) -> str:
    return f"{mine / theirs:.1f}x" if mine is not None and theirs else "-"


# --- the child process ------------------------------------------------------------------------------------


def child_main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="encode-times loop")
    parser.add_argument("spec", type=Path)
    args = parser.parse_args(argv)
    spec: dict[str, Any] = json.loads(args.spec.read_text())
    print(json.dumps([asdict(sample) for sample in measure(spec)]))
    return 0


def measure(spec: dict[str, Any]) -> list[Sample]:
    """Every (photo, width, format) of ``spec`` once per repeat, after one untimed pass at the smallest width."""
    from transforms import scale_on_load, vips
    from transforms.pipeline import PixelBudget

    vips.configure(concurrency=int(spec["vips_concurrency"]))
    scale_on_load.configure(scale_on_load.Mode(spec["scale_on_load"]))
    budget = PixelBudget(**spec["budget"])
    corpus = Path(spec["corpus"])
    originals = {name: (corpus / name).read_bytes() for name in spec["photos"]}
    widths: list[int] = [int(width) for width in spec["widths"]]
    formats: list[str] = list(spec["formats"])
    # Encoders set themselves up on first use (AVIF's most): that belongs to a worker's start, not to a miss.
    for fmt in formats:
        _one(next(iter(originals.values())), "", min(widths), fmt, budget)
    samples: list[Sample] = []
    for _ in range(int(spec["repeats"])):
        for name, original in originals.items():
            for width in widths:
                samples += [_one(original, name, width, fmt, budget) for fmt in formats]
    return samples


def _one(original: bytes, name: str, width: int, fmt: str, budget: Any) -> Sample:
    from transforms.errors import ImageTooLarge
    from transforms.negotiate import choose_format
    from transforms.params import parse_query
    from transforms.pipeline import run

    options = parse_query(f"w={width}&fm={fmt}")
    chosen = choose_format(options, None)[0]
    try:
        wall, began = time.perf_counter(), time.process_time()
        output = run(original, options, chosen, budget)
        run_ms, run_wall_ms = (time.process_time() - began) * 1000, (time.perf_counter() - wall) * 1000
        prepare_ms, encode_ms = _encode_alone(original, options, chosen, budget)
    except ImageTooLarge:  # an output cap (max_avif_pixels): the gateway refuses it too
        return Sample(name, width, fmt, 0, 0, None, None, None, None, None)
    size = len(output.data)
    return Sample(name, width, fmt, output.width, output.height, run_ms, run_wall_ms, prepare_ms, encode_ms, size)


def _encode_alone(original: bytes, options: Any, chosen: Any, budget: Any) -> tuple[float, float]:
    """(ms for every step before encode, pixels computed into memory; ms for the encode step on them).

    libvips computes pixels only when the encoder pulls them, so inside ``run`` the decode and the resize
    happen during the encode step; computing them into memory first leaves the encoder's own work to time.
    """
    from transforms.pipeline import PIPELINE
    from transforms.steps.context import Context
    from transforms.steps.encode import encode

    ctx = Context(original=original, options=options.normalised(), chosen=chosen, budget=budget)
    began = time.process_time()
    for step in PIPELINE[: PIPELINE.index(encode)]:
        step(ctx)
    ctx.image = ctx.pixels().copy_memory()
    prepared = time.process_time()
    encode(ctx)
    done = time.process_time()
    return (prepared - began) * 1000, (done - prepared) * 1000
