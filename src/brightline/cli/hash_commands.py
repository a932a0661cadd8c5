"""``brightline hash`` and ``brightline match``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from brightline.cli.context import CliContext
from brightline.cli.matcher import open_indexes
from brightline.cli.output import content_json, dumps, problem_json, result_json
from brightline.matching import MatchStatus, match_content
from brightline.scanning import hash_paths
from brightline.signals import HashingLimits

FILES = click.argument(
    "files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False)
)


@click.command("hash")
@FILES
@click.option("--dihedral", is_flag=True, help="Also print the 8 rotated/flipped PDQ hashes.")
@click.pass_obj
def hash_command(obj: CliContext, files: tuple[Path, ...], dihedral: bool) -> None:
    """Print the signals of each FILE as JSON lines.

    Videos also get a "video" object: the number of sampled frames, the duration and the vPDQ
    frame hashes (base64 of the compact binary form).

    Files that cannot be hashed are printed too, with the reason; the exit code is 3 if any file
    could not be read at all.
    """
    limits = HashingLimits.from_settings(obj.settings)
    failed = False
    for outcome in hash_paths(files, limits=limits, dihedral=dihedral, workers=1):
        if outcome.content is None:
            failed = True
            click.echo(dumps(problem_json(outcome.path, "io_error", outcome.error or "")))
            continue
        hashed = content_json(outcome.content, dihedral=dihedral, vpdq=True)
        out = {"path": str(outcome.path)} | hashed
        click.echo(dumps(out))
    if failed:
        sys.exit(3)


@click.command("match")
@FILES
@click.option("--fail-on-match", is_flag=True, help="Exit with 1 when anything matched.")
@click.option("--no-dihedral", is_flag=True, help="Don't match rotated or flipped copies.")
@click.option("--pretty", is_flag=True, help="Indented JSON instead of JSON lines.")
@click.pass_obj
def match_command(
    obj: CliContext, files: tuple[Path, ...], fail_on_match: bool, no_dihedral: bool, pretty: bool
) -> None:
    """Match each FILE against every enabled bank; print one JSON result per file."""
    limits = HashingLimits.from_settings(obj.settings)
    dihedral = obj.settings.dihedral and not no_dihedral
    matched = failed = False
    with obj.transaction() as session:
        index, video_index = open_indexes(obj, session)
        for outcome in hash_paths(files, limits=limits, dihedral=dihedral, workers=1):
            if outcome.content is None:
                failed = True
                click.echo(dumps(problem_json(outcome.path, "io_error", outcome.error or "")))
                continue
            result = match_content(
                session=session,
                content=outcome.content,
                registry=obj.registry,
                pdq_index=index,
                quality_threshold=obj.settings.pdq_quality_threshold,
                dihedral=dihedral,
                video_index=video_index,
            )
            matched |= result.status is MatchStatus.MATCH
            out = result_json(outcome.path, result)
            click.echo(json.dumps(out, indent=2) if pretty else dumps(out))
    if failed:
        sys.exit(3)
    if matched and fail_on_match:
        sys.exit(1)
