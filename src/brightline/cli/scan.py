"""``brightline scan``: match every file under some directories against the banks."""

from __future__ import annotations

import csv
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from brightline.banks.service import get_bank
from brightline.cli.context import CliContext
from brightline.cli.matcher import open_indexes
from brightline.cli.output import CSV_COLUMNS, csv_rows, dumps, problem_json, result_json
from brightline.errors import InvalidInput
from brightline.matching import match_content
from brightline.matching.service import pdq_query_distance
from brightline.scanning import FileProblem, hash_paths, iter_files
from brightline.scanning.workers import default_workers
from brightline.signals import HashingLimits


def _done_paths(output: Path, fmt: str) -> set[str]:
    """Paths already in an earlier (possibly interrupted) output file; drops a torn last line."""
    if not output.exists():
        return set()
    data = output.read_bytes()
    if data and not data.endswith(b"\n"):
        data = data[: data.rfind(b"\n") + 1]
        output.write_bytes(data)
    lines = data.decode("utf-8", errors="replace").splitlines()
    if fmt == "csv":
        return {row["path"] for row in csv.DictReader(lines) if row.get("path")}
    done = set()
    for line in lines:
        try:
            done.add(json.loads(line)["path"])
        except (ValueError, KeyError, TypeError):
            continue
    return done


class ResultWriter:
    def __init__(self, stream: IO[str], fmt: str, *, write_header: bool) -> None:
        self.stream = stream
        self.fmt = fmt
        self.csv = csv.DictWriter(stream, CSV_COLUMNS) if fmt == "csv" else None
        if self.csv is not None and write_header:
            self.csv.writeheader()

    def write(self, obj: dict[str, Any]) -> None:
        if self.csv is not None:
            self.csv.writerows(csv_rows(obj))
        else:
            self.stream.write(dumps(obj) + "\n")
        self.stream.flush()  # a killed scan leaves only whole lines behind


def _summary(counts: Counter[str], reasons: Counter[str], elapsed: float) -> Table:
    table = Table(title="scan summary", show_header=True)
    table.add_column("outcome")
    table.add_column("files", justify="right")
    for key in ("match", "no_match", "low_quality", "unhashable", "error", "skipped"):
        if counts[key] or key in {"match", "no_match"}:
            table.add_row(key, str(counts[key]))
    for reason, count in sorted(reasons.items()):
        table.add_row(f"  reason: {reason}", str(count))
    total = sum(counts[k] for k in counts if k != "skipped")
    rate = total / elapsed if elapsed > 0 else 0.0
    table.add_row("total", f"{total} in {elapsed:.1f}s ({rate:.1f} files/s)")
    return table


@click.command("scan")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, exists=False))
@click.option("--bank", "banks", multiple=True, help="Match only these banks (repeatable).")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write results here (default: stdout).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=None,
    help="Hashing processes (default: one per core).",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Skip files already in --output (after an interrupted run) and append.",
)
@click.option("--fail-on-match", is_flag=True, help="Exit with 1 when anything matched.")
@click.option("--no-dihedral", is_flag=True, help="Don't match rotated or flipped copies.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.pass_obj
def scan(
    obj: CliContext,
    paths: tuple[Path, ...],
    banks: tuple[str, ...],
    output: Path | None,
    fmt: str,
    workers: int | None,
    resume: bool,
    fail_on_match: bool,
    no_dihedral: bool,
    no_progress: bool,
) -> None:
    """Scan files and directories under PATHS (recursively) against the banks.

    Links are never followed out of the scanned roots. Every file appears in the output: matched,
    not matched, low quality or unhashable with the reason. Safe to interrupt: output is written
    line by line, and --resume continues where a run stopped.

    Exit codes: 0 done; 1 matches found (with --fail-on-match); 2 usage error; 3 I/O error (a
    root or file could not be read, or output could not be written).
    """
    if resume and output is None:
        raise InvalidInput("--resume needs --output (the file to continue)")
    console = Console(stderr=True)
    limits = HashingLimits.from_settings(obj.settings)
    dihedral = obj.settings.dihedral and not no_dihedral
    done = _done_paths(output, fmt) if resume and output is not None else set()

    with obj.transaction() as session:
        for name in banks:
            get_bank(session=session, name=name)  # unknown bank → usage error before any work
        bank_names = set(banks) or None
        index, video_index = open_indexes(obj, session)
        max_distance = pdq_query_distance(session=session, bank_names=bank_names)

        total = sum(1 for item in iter_files(paths) if isinstance(item, Path))
        stream: IO[str]
        if output is None:
            stream = sys.stdout
        else:
            append = resume and output.exists() and output.stat().st_size > 0
            stream = open(output, "a" if append else "w", encoding="utf-8", newline="")  # noqa: SIM115
        writer = ResultWriter(stream, fmt, write_header=not (resume and done))
        counts: Counter[str] = Counter()
        reasons: Counter[str] = Counter()
        started = time.monotonic()
        progress = Progress(
            TextColumn("scanning"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]} files/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            disable=no_progress or not console.is_terminal,
        )
        problems: list[FileProblem] = []

        def to_hash() -> Iterator[Path]:
            for item in iter_files(paths):
                if isinstance(item, FileProblem):
                    problems.append(item)
                elif str(item) in done:
                    counts["skipped"] += 1
                else:
                    yield item

        interrupted = False
        try:
            with progress:
                task = progress.add_task("scan", total=total, rate="0.0")
                progress.advance(task, len(done))
                for outcome in hash_paths(
                    to_hash(),
                    limits=limits,
                    dihedral=dihedral,
                    workers=workers or default_workers(),
                ):
                    while problems:
                        problem = problems.pop(0)
                        counts["error"] += 1
                        reasons[problem.reason] += 1
                        writer.write(problem_json(problem.path, problem.reason, problem.detail))
                    if outcome.content is None:
                        counts["error"] += 1
                        reasons["io_error"] += 1
                        writer.write(problem_json(outcome.path, "io_error", outcome.error or ""))
                    else:
                        result = match_content(
                            session=session,
                            content=outcome.content,
                            registry=obj.registry,
                            pdq_index=index,
                            quality_threshold=obj.settings.pdq_quality_threshold,
                            dihedral=dihedral,
                            max_distance=max_distance,
                            bank_names=bank_names,
                            video_index=video_index,
                        )
                        counts[result.status.value] += 1
                        if outcome.content.unhashable is not None:
                            reasons[outcome.content.unhashable.reason] += 1
                        writer.write(result_json(outcome.path, result))
                    elapsed = time.monotonic() - started
                    scanned = sum(counts.values()) - counts["skipped"]
                    progress.update(task, advance=1, rate=f"{scanned / max(elapsed, 1e-9):.1f}")
                for problem in problems:
                    counts["error"] += 1
                    reasons[problem.reason] += 1
                    writer.write(problem_json(problem.path, problem.reason, problem.detail))
        except KeyboardInterrupt:
            interrupted = True
        finally:
            if stream is not sys.stdout:
                stream.close()
    console.print(_summary(counts, reasons, time.monotonic() - started))
    if interrupted:
        console.print("interrupted: re-run with --resume --output FILE to continue")
        sys.exit(130)
    if counts["error"]:
        sys.exit(3)
    if fail_on_match and counts["match"]:
        sys.exit(1)
