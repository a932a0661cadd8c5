"""``brightline text``: scan posts for coded terms and off-platform migration signals.

Reads JSON lines ``{"id": ..., "text": ...}`` and writes one JSON line per term hit or
extraction. The output holds the post ids, spans into each post's text, the terms from the term
list and the extracted values: never the post text itself, and nothing from anywhere else (links
are not fetched, numbers and addresses are not looked up).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click

from brightline.cli.account_risk_commands import calibrate_command, score_accounts_command
from brightline.cli.context import CliContext
from brightline.cli.discover_command import discover
from brightline.cli.json_lines import json_objects
from brightline.cli.term_bank_commands import bank, candidates
from brightline.cli.text_case_commands import open_cases_command
from brightline.errors import InvalidInput

if TYPE_CHECKING:
    from brightline.text import Extraction, TermHit

logger = logging.getLogger(__name__)

BATCH_POSTS = 2000
BATCH_CHARS = 1 << 20

PostId = str | int


@click.group("text")
def text() -> None:
    """Scan text for coded terms and signals of moving off the platform; discover variants."""


text.add_command(discover)
text.add_command(score_accounts_command)
text.add_command(calibrate_command)
text.add_command(open_cases_command)
text.add_command(bank)
text.add_command(candidates)


@text.command("scan")
@click.argument("posts", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--terms",
    "terms_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Term list: plain text (one term per line) or .csv (term,mode,weight).",
)
@click.option(
    "--list-name", default=None, help="Name of the term list in the output (default: file stem)."
)
@click.option(
    "--bank",
    "bank_names",
    multiple=True,
    help="A term list from the database, by name (repeatable; with or without --terms).",
)
@click.option(
    "--tables",
    "tables_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Migration tables (JSON) that extend the shipped ones.",
)
@click.option("--replace-tables", is_flag=True, help="Use --tables instead of the shipped tables.")
@click.option(
    "--phone-region",
    default=None,
    help="Region (e.g. GB) for phone numbers written without a country code.",
)
@click.option("--no-extract", is_flag=True, help="Term hits only: no migration extractors.")
@click.pass_obj
def scan(
    obj: CliContext,
    posts: Path,
    terms_path: Path | None,
    list_name: str | None,
    bank_names: tuple[str, ...],
    tables_path: Path | None,
    replace_tables: bool,
    phone_region: str | None,
    no_extract: bool,
) -> None:
    """Scan POSTS (JSON lines {"id": ..., "text": ...}) and write hits as JSON lines.

    Each output line is a term hit ({"type": "term", ...}) or an extraction ({"type":
    "extraction", "kind": ...}); "start" and "end" are code point offsets into the post's text.
    A malformed line stops the scan with exit code 2, naming the line; the posts before it have
    been scanned and written.
    """
    # Imported here: the matcher's dependencies load only for the command that needs them.
    from brightline.text import MigrationExtractor, MigrationTables, TermList, TermMatcher
    from brightline.text.term_banks import load_term_list

    if terms_path is None and not bank_names and no_extract:
        raise InvalidInput("nothing to do: give --terms or --bank, or leave out --no-extract")
    if replace_tables and tables_path is None:
        raise InvalidInput("--replace-tables needs --tables")
    term_lists: list[TermList] = []
    if terms_path is not None:
        term_lists.append(TermList.load(terms_path, name=list_name))
    if bank_names:
        with obj.transaction() as session:
            term_lists.extend(
                load_term_list(session=session, name=name) for name in dict.fromkeys(bank_names)
            )
    matcher = TermMatcher(term_lists) if term_lists else None
    extractor = None
    if not no_extract:
        tables = (
            MigrationTables.load(tables_path, replace=replace_tables)
            if tables_path is not None
            else MigrationTables.default()
        )
        extractor = MigrationExtractor(tables, phone_region=phone_region)

    out = sys.stdout
    started = time.perf_counter()
    counts = {"posts": 0, "hits": 0, "extractions": 0}
    with posts.open("rb") as stream:
        for batch in _batches(_read_posts(stream)):
            ids = [post_id for post_id, _ in batch]
            texts = [post_text for _, post_text in batch]
            hits = matcher.match_many(texts) if matcher is not None else [[] for _ in texts]
            extractions = (
                extractor.extract_many(texts) if extractor is not None else [[] for _ in texts]
            )
            for post_id, post_hits, post_extractions in zip(ids, hits, extractions, strict=True):
                _write(out, post_id, post_hits, post_extractions)
                counts["hits"] += len(post_hits)
                counts["extractions"] += len(post_extractions)
            counts["posts"] += len(batch)
    logger.info(
        "text scan: %d posts, %d term hits, %d extractions in %.2fs",
        counts["posts"],
        counts["hits"],
        counts["extractions"],
        time.perf_counter() - started,
    )


def _read_posts(stream: Any) -> Iterator[tuple[PostId, str]]:
    for number, record in json_objects(stream):
        post_id = record.get("id")
        if isinstance(post_id, bool) or not isinstance(post_id, str | int):
            raise InvalidInput(f'posts line {number}: "id" must be a string or an integer')
        post_text = record.get("text")
        if not isinstance(post_text, str):
            raise InvalidInput(f'posts line {number}: "text" must be a string')
        yield post_id, post_text


def _batches(posts: Iterator[tuple[PostId, str]]) -> Iterator[list[tuple[PostId, str]]]:
    """Posts in batches; at a bad line, the posts before it are still scanned, then it raises."""
    batch: list[tuple[PostId, str]] = []
    size = 0
    try:
        for post in posts:
            batch.append(post)
            size += len(post[1])
            if len(batch) >= BATCH_POSTS or size >= BATCH_CHARS:
                yield batch
                batch, size = [], 0
    except InvalidInput:
        if batch:
            yield batch
        raise
    if batch:
        yield batch


def hit_record(post_id: PostId, hit: TermHit) -> dict[str, Any]:
    return {
        "id": post_id,
        "type": "term",
        "list": hit.list_name,
        "list_version": hit.list_version,
        "term": hit.term,
        "mode": hit.mode.value,
        "match": hit.match_type.value,
        "start": hit.start,
        "end": hit.end,
        "weight": hit.weight,
        "hashtag": hit.in_hashtag,
    }


def extraction_record(post_id: PostId, extraction: Extraction) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": post_id,
        "type": "extraction",
        "kind": extraction.kind.value,
        "value": extraction.value,
        "start": extraction.start,
        "end": extraction.end,
        "confidence": extraction.confidence,
    }
    if extraction.service is not None:
        record["service"] = extraction.service
    if extraction.detail is not None:
        record["detail"] = extraction.detail
    return record


def _write(
    out: TextIO, post_id: PostId, hits: list[TermHit], extractions: list[Extraction]
) -> None:
    for hit in hits:
        out.write(json.dumps(hit_record(post_id, hit), ensure_ascii=False) + "\n")
    for extraction in extractions:
        out.write(json.dumps(extraction_record(post_id, extraction), ensure_ascii=False) + "\n")
