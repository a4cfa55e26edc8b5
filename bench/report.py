"""The run's report: tables per workload, ratios, targets; printed and written as Markdown and JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.options import REPO, BenchOptions
from bench.results import SUBJECT, Row, WorkloadResult
from bench.targets import Verdict


@dataclass(frozen=True)
class RunRecord:
    """Everything one run produced, for the Markdown and JSON reports."""

    started: datetime
    options: BenchOptions
    machine: dict[str, str]
    results: Sequence[WorkloadResult]
    verdicts: Sequence[Verdict]
    unavailable: dict[str, str]
    stopped_early: str | None = None
    restarts: dict[str, int] | None = None  # servers found dead between workloads and started again


def render_markdown(record: RunRecord) -> str:
    started, options, machine, results = record.started, record.options, record.machine, record.results
    lines = [
        f"# imgate bench, {started:%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {machine.get('cpu')}, {machine.get('cores')} cores, {machine.get('memory')} RAM, "
        f"Linux {machine.get('kernel')}; Python {machine.get('python')}, libvips {machine.get('libvips')}, "
        f"{machine.get('thumbor', 'thumbor not run')}, {machine.get('nginx')}, {machine.get('wrk')}; "
        f"imgate {machine.get('commit')}; load average at start {machine.get('load_at_start')}.",
        "",
        f"Settings: concurrency {options.concurrency} (memory workload {options.memory_concurrency}), "
        f"{options.duration_s:g} s per run, {options.repeats} repeat(s), medians shown; "
        f"corpus `{_display_path(options.corpus)}`; all servers on 127.0.0.1 with {options.cores} workers/processes.",
        "",
        "req/s counts 2xx answers only; errors = socket errors + timeouts + non-2xx answers; "
        "every URL of a workload is checked first to answer 200 with the right format and width. "
        "other CPU = share of the machine that programs outside the bench used during the run. "
        "imgate/x = imgate's req/s over that row's: the median of the per-repeat ratios.",
        "",
    ]
    if record.stopped_early:
        lines += [f"**This run stopped early ({record.stopped_early}); some workloads are missing.**", ""]
    lines += _busy_warning(results)
    lines += _summary(results)
    for result in results:
        lines += _workload_section(result)
    lines += ["## Targets", "", "| target | measured | verdict |", "| --- | --- | --- |"]
    lines += [f"| {v.target} | {v.measured} | {_verdict_mark(v)} |" for v in record.verdicts]
    if record.unavailable:
        lines += ["", "## Not measured", ""]
        lines += [f"- {label}: {_first_line(reason)}" for label, reason in record.unavailable.items()]
    if record.restarts:
        lines += ["", "## Restarts", ""]
        lines += [f"- {label} was found stopped {n} time(s) and started again" for label, n in record.restarts.items()]
    return "\n".join(lines) + "\n"


_SUMMARY_PEERS = ("thumbor", "thumbor+rs", "pyvips limit", "pyvips thumbnail_buffer", "nginx static")


def _summary(results: Sequence[WorkloadResult]) -> list[str]:
    """One line per workload: the table the README carries."""
    lines = [
        "## Summary",
        "",
        "| workload | imgate req/s | imgate p99 ms | vs thumbor | vs pyvips limit | vs pyvips thumbnail_buffer "
        "| vs nginx |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    memory_line: list[str] = []
    for result in results:
        memory = result.extra.get("median_bytes")
        if isinstance(memory, dict):
            figures = ", ".join(f"{key} {value / 2**20:.0f} MiB" for key, value in memory.items())
            memory_line = ["", f"imgate memory during large-miss at concurrency {result.concurrency}: {figures}."]
            continue
        row = result.row(SUBJECT)
        median = row.median if row else None
        if median is None:
            continue
        ratios = {label: result.ratio(label) for label in _SUMMARY_PEERS}
        thumbor = ratios["thumbor"] or ratios["thumbor+rs"]
        cells = [_times(thumbor), _times(ratios["pyvips limit"]), _times(ratios["pyvips thumbnail_buffer"])]
        cells.append(_times(ratios["nginx static"]))
        lines.append(
            f"| {result.name} | {median.requests_per_s:,.1f} | {median.p99_ms:.1f} | " + " | ".join(cells) + " |"
        )
    return lines + memory_line + [""]


def _times(ratio: float | None) -> str:
    return f"{ratio:.2f}x" if ratio is not None else "-"


def _workload_section(result: WorkloadResult) -> list[str]:
    lines = [
        f"## {result.name}",
        "",
        f"{result.title}; concurrency {result.concurrency}.",
    ]
    tables = result.extra.get("tables")
    if result.rows or not tables:
        lines += [
            "",
            "| server | req/s | p50 ms | p99 ms | errors | peak RSS MiB | out KiB | SSIM | other CPU | imgate/x |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        lines += [_row_line(result, row) for row in result.rows]
    lines += _extra_tables(tables if isinstance(tables, list) else [])
    memory = result.extra.get("median_bytes")
    if isinstance(memory, dict):
        lines += ["", "Memory (median): " + ", ".join(f"{k} {v / 2**20:.0f} MiB" for k, v in memory.items())]
    if result.notes:
        lines += [""] + [f"- {note}" for note in result.notes]
    return lines + [""]


def _extra_tables(tables: Sequence[Any]) -> list[str]:
    """A workload's own tables (``extra["tables"]``: title, columns, rows of cells), for figures that are not
    one row per server (bench/workloads/encode_times.py). The first column is a label, the others numbers."""
    lines: list[str] = []
    for table in tables:
        columns = [str(column) for column in table["columns"]]
        lines += ["", str(table["title"]), "", "| " + " | ".join(columns) + " |"]
        lines.append("| --- |" + " ---: |" * (len(columns) - 1))
        lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in table["rows"]]
    return lines


# Above this share of the machine taken by other programs, ratios between runs are noise-prone.
BUSY_SHARE = 0.10


def _busy_warning(results: Sequence[WorkloadResult]) -> list[str]:
    shares = [run.other_cpu for result in results for row in result.rows for run in row.runs if run.other_cpu]
    worst = max(shares, default=0.0)
    if worst <= BUSY_SHARE:
        return []
    busy = sum(1 for share in shares if share > BUSY_SHARE)
    return [
        f"**Warning: the machine was shared.** In {busy} of {len(shares)} runs other programs used more than "
        f"{BUSY_SHARE:.0%} of the CPU (worst {worst:.0%}); rerun on a quiet machine before trusting close ratios.",
        "",
    ]


def _row_line(result: WorkloadResult, row: Row) -> str:
    median = row.median
    if median is None:
        return f"| {row.label} | - | - | - | - | - | - | - | - | - |"
    rss = f"{median.peak_rss_bytes / 2**20:.0f}" if median.peak_rss_bytes else "-"
    size = f"{row.output_bytes / 1024:.1f}" if row.output_bytes else "-"
    ssim = f"{row.ssim:.4f}" if row.ssim is not None else "-"
    other = f"{median.other_cpu:.0%}" if median.other_cpu is not None else "-"
    ratio = result.ratio(row.label) if row.role == "peer" else None
    shown_ratio = f"**{ratio:.2f}x**" if ratio is not None else ("-" if row.label != SUBJECT else "")
    label = f"_{row.label}_" if row.role == "variant" else row.label
    return (
        f"| {label} | {median.requests_per_s:,.1f} | {median.p50_ms:.1f} | {median.p99_ms:.1f} | "
        f"{median.errors} | {rss} | {size} | {ssim} | {other} | {shown_ratio} |"
    )


def _verdict_mark(verdict: Verdict) -> str:
    return {"met": "met", "missed": "**MISSED**", "not measured": "not measured"}[verdict.status]


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _display_path(path: Path) -> str:
    # Relative to the clone when possible, so a pasted report does not carry this machine's layout.
    try:
        return str(path.relative_to(REPO.parent))
    except ValueError:
        return str(path)


def to_json(record: RunRecord) -> dict[str, Any]:
    options = record.options
    return {
        "started": record.started.isoformat(),
        "stopped_early": record.stopped_early,
        "machine": record.machine,
        "settings": {
            "concurrency": options.concurrency,
            "memory_concurrency": options.memory_concurrency,
            "duration_s": options.duration_s,
            "repeats": options.repeats,
            "cores": options.cores,
            "corpus": _display_path(options.corpus),
        },
        "workloads": [result.to_json() for result in record.results],
        "targets": [asdict(verdict) for verdict in record.verdicts],
        "unavailable": record.unavailable,
        "restarts": record.restarts or {},
    }


def write_reports(results_dir: Path, started: datetime, markdown: str, data: dict[str, Any]) -> list[Path]:
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    written = [results_dir / f"{stamp}.json", results_dir / f"{stamp}.md", results_dir / "latest.md"]
    written[0].write_text(json.dumps(data, indent=2) + "\n")
    written[1].write_text(markdown)
    written[2].write_text(markdown)
    return written


def utc_now() -> datetime:
    return datetime.now(UTC)
