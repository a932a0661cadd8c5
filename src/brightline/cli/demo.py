"""``brightline demo``: see matching work end to end on benign generated stand-ins."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from brightline.cli.context import CliContext
from brightline.demo.console_seed import seed_console
from brightline.demo.runner import DEMO_BANK, VIDEO_ALTERATIONS, run_demo
from brightline.demo.standins import ALTERATIONS
from brightline.scanning.workers import default_workers


@click.command("demo")
@click.option(
    "--workdir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where to write the demo images (default: BRIGHTLINE_HOME/demo).",
)
@click.option("--banked", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--decoys", type=click.IntRange(0, 10000), default=40, show_default=True)
@click.pass_obj
def demo(obj: CliContext, workdir: Path | None, banked: int, decoys: int) -> None:
    """Bank generated stand-in images, scan altered copies and decoys, report what matched.

    All images and videos are generated benign stand-ins (coloured noise and moving shapes),
    labelled as such.
    """
    console = Console()
    target = workdir or obj.settings.home / "demo"
    console.print(f"Brightline demo — data in {obj.settings.home}")
    console.print(
        f"generating {banked} stand-in images with {banked * len(ALTERATIONS)} altered copies "
        f"and {decoys} decoys, and stand-in videos with {len(VIDEO_ALTERATIONS)} kinds of "
        f"altered copy, in {target}"
    )
    report = run_demo(
        workdir=target,
        sessions=obj.sessions,
        registry=obj.registry,
        settings=obj.settings,
        banked=banked,
        decoys=decoys,
        workers=default_workers(),
    )
    table = Table(title=f"altered copies matched against bank {DEMO_BANK} (PDQ, threshold 31)")
    table.add_column("alteration")
    table.add_column("matched", justify="right")
    table.add_column("median distance", justify="right")
    table.add_column("max distance", justify="right")
    for alteration in ALTERATIONS:
        found = [d for d in report.per_alteration[alteration] if d is not None]
        median = report.median_distance(alteration)
        table.add_row(
            alteration,
            f"{len(found)}/{len(report.per_alteration[alteration])}",
            "-" if median is None else f"{median:g}",
            str(max(found)) if found else "-",
        )
    console.print(table)
    console.print(
        f"recall {report.recall:.1%}; false matches {report.false_matches}/{report.decoys} "
        f"decoys; scanned {report.files_scanned} files in {report.scan_seconds:.1f}s"
    )
    videos = Table(title=f"altered video copies matched against bank {DEMO_BANK} (vPDQ)")
    for column in ("alteration", "matched", "kind", "query coverage", "bank-video coverage"):
        videos.add_column(column, justify="left" if column in {"alteration", "kind"} else "right")
    for alteration in VIDEO_ALTERATIONS:
        details = report.per_video_alteration[alteration]
        hits = [d for d in details if d is not None]
        videos.add_row(
            alteration,
            f"{len(hits)}/{len(details)}",
            ", ".join(sorted({d.kind for d in hits})) or "-",
            f"{min((d.query_coverage for d in hits), default=0):.0%} min",
            f"{min((d.target_coverage for d in hits), default=0):.0%} min",
        )
    console.print(videos)
    console.print(
        f"false video matches {report.video_false_matches}/{report.video_decoys} decoy videos"
    )
    uploads = sorted((target / "to-scan").glob("standin-00[0-5]-*.jpg"))
    seed = seed_console(
        sessions=obj.sessions, settings=obj.settings, registry=obj.registry, uploads=uploads
    )
    if seed.cases < 0:
        console.print("review console: sample cases from an earlier run kept")
    else:
        console.print(
            f"review console: {seed.flagged} matched uploads flagged into {seed.cases} sample "
            "cases of synthetic users"
        )
    console.print(f"console accounts (new passwords each run, also in {seed.accounts_file}):")
    for name, password in seed.passwords.items():
        console.print(f"  {name}  {password}", soft_wrap=True)
    console.print(
        f"open the console: BRIGHTLINE_HOME={obj.settings.home} brightline serve, then "
        "http://127.0.0.1:8000/console",
        soft_wrap=True,
    )
    _clearinghouse(console, obj)
    console.print("all images and videos are generated benign stand-ins, not real material")
    example = target / "to-scan" / "standin-000-rotate_90.jpg"
    console.print(
        f"try: BRIGHTLINE_HOME={obj.settings.home} brightline match {example} --pretty",
        soft_wrap=True,
    )


def _clearinghouse(console: Console, obj: CliContext) -> None:
    """The clearinghouse role: the sample report delivered to it, synthetic ones imported,
    everything analysed (a few seconds)."""
    from brightline.cli.demo_clearinghouse import run_clearinghouse_demo

    settings = obj.settings
    schema = settings.clearinghouse.schema_path or settings.reporter.schema_path
    result = run_clearinghouse_demo(sessions=obj.sessions, settings=settings, schema_path=schema)
    if result.skipped is not None:
        console.print(f"clearinghouse: skipped ({result.skipped})")
        return
    if result.skipped_filing is not None:
        console.print(f"clearinghouse: no sample report filed ({result.skipped_filing})")
    tiers = ", ".join(f"{tier} {count}" for tier, count in result.tiers.items())
    console.print(
        f"clearinghouse: {result.filed} report filed by the platform, {result.delivered} "
        f"delivered over HTTP to the intake, {result.imported} synthetic reports bulk-imported; "
        f"{result.analysed} reports analysed ({tiers}) in {result.seconds:.1f}s",
        soft_wrap=True,
    )
    console.print(
        f"try: BRIGHTLINE_HOME={settings.home} brightline clearinghouse queue --limit 5",
        soft_wrap=True,
    )
