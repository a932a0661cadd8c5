"""``brightline text discover``: candidate variants of flagged hashtags, as JSON lines, for review.

Reads posts as JSON lines ``{"account": ..., "time": ..., "text": ..., "hashtags": [...]}`` and
writes one JSON line per candidate tag: its fused score, its rank in each method and the
evidence (counts and scores). Never the text of any post. Registered on the ``text`` group in
:mod:`brightline.cli.text_commands`.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from brightline.cli.context import CliContext
from brightline.cli.json_lines import json_objects
from brightline.errors import InvalidInput

if TYPE_CHECKING:
    from brightline.text.discovery import Candidate, Post

logger = logging.getLogger(__name__)


@click.command("discover")
@click.argument("posts", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--seed", "seeds", multiple=True, help="A flagged tag (repeatable).")
@click.option(
    "--seed-list",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="File of flagged tags, one per line (blank and '# ' comment lines skipped).",
)
@click.option(
    "--known",
    "known_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Term list (.txt or .csv) of tags already known: left out of the candidates.",
)
@click.option(
    "--bank",
    "bank_name",
    default=None,
    help="A term list in the database: its terms are seeds and known tags.",
)
@click.option(
    "--queue",
    is_flag=True,
    help="Put the top candidates in the --bank list's review queue instead of writing them.",
)
@click.option(
    "--top",
    default=50,
    show_default=True,
    type=click.IntRange(min=1),
    help="Write (or queue) at most this many candidates.",
)
@click.pass_obj
def discover(
    obj: CliContext,
    posts: Path,
    seeds: tuple[str, ...],
    seed_list: Path | None,
    known_path: Path | None,
    bank_name: str | None,
    queue: bool,
    top: int,
) -> None:
    """Rank candidate variants of the seed tags in POSTS (JSON lines) for review.

    Each post is {"account": ..., "time": ..., "text": ..., "hashtags": [...]}: "account" a
    string or integer; "time" optional, seconds or an ISO 8601 date; "hashtags" optional (taken
    from "text" when missing). Each output line is a candidate with its fused score, its rank in
    each method (cooccurrence, graph, spelling) and the evidence. A malformed line stops with
    exit code 2, naming the line; nothing is written, since the ranking needs every post.

    With --bank NAME the list's terms are seeds and known tags; with --queue the candidates go
    to that list's review queue (`brightline text candidates`) and one summary line is written:
    tags rejected before, or already on the list, are not queued again.
    """
    from brightline.text import TermList
    from brightline.text.discovery import discover as run_discovery
    from brightline.text.term_banks import decided_tags, queue_candidates, terms_at

    if queue and bank_name is None:
        raise InvalidInput("--queue needs --bank")
    all_seeds = list(seeds)
    if seed_list is not None:
        all_seeds.extend(_read_seed_list(seed_list))
    known: list[str] = []
    if bank_name is not None:
        with obj.transaction() as session:
            _, rows = terms_at(session=session, list_name=bank_name)
            all_seeds.extend(row.text for row in rows)
            known.extend(row.text for row in rows)
            known.extend(decided_tags(session=session, list_name=bank_name))
    if not all_seeds:
        raise InvalidInput("give at least one --seed, a --seed-list or a --bank with terms")
    if known_path is not None:
        known.extend(term.text for term in TermList.load(known_path).terms)
    started = time.perf_counter()
    with posts.open("rb") as stream:
        loaded = list(_read_posts(stream))
    result = run_discovery(loaded, all_seeds, known=known)
    out = sys.stdout
    if queue and bank_name is not None:
        with obj.transaction() as session:
            queued = queue_candidates(
                session=session, list_name=bank_name, candidates=result.candidates[:top]
            )
        summary = {
            "list": queued.list_name,
            "queued": queued.queued,
            "refreshed": queued.refreshed,
            "already_rejected": queued.already_rejected,
            "already_decided": queued.already_decided,
            "already_listed": queued.already_listed,
        }
        out.write(json.dumps(summary, ensure_ascii=False) + "\n")
    else:
        for candidate in result.candidates[:top]:
            out.write(json.dumps(candidate_record(candidate), ensure_ascii=False) + "\n")
    logger.info(
        "text discover: %d posts, %d tags, %d of %d seeds found, %d candidates in %.2fs",
        result.posts,
        result.vocabulary,
        len(result.seeds_found),
        len(set(all_seeds)),
        len(result.candidates),
        time.perf_counter() - started,
    )


def candidate_record(candidate: Candidate) -> dict[str, Any]:
    return {
        "tag": candidate.tag,
        "rank": candidate.rank,
        "score": candidate.score,
        "ranks": {method.value: rank for method, rank in sorted(candidate.ranks.items())},
        "evidence": dict(candidate.evidence),
    }


def _read_seed_list(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise InvalidInput(f"{path.name}: not valid UTF-8") from None
    return [
        line.strip()
        for line in lines
        if line.strip() and not line.startswith("# ") and line.strip() != "#"
    ]


def _read_posts(stream: Any) -> Iterator[Post]:
    from brightline.text.discovery import Post, timestamp

    for number, record in json_objects(stream):
        account = record.get("account")
        if isinstance(account, bool) or not isinstance(account, str | int):
            raise InvalidInput(f'posts line {number}: "account" must be a string or an integer')
        text = record.get("text", "")
        if not isinstance(text, str):
            raise InvalidInput(f'posts line {number}: "text" must be a string')
        hashtags = record.get("hashtags")
        if hashtags is not None and (
            not isinstance(hashtags, list) or not all(isinstance(tag, str) for tag in hashtags)
        ):
            raise InvalidInput(f'posts line {number}: "hashtags" must be a list of strings')
        when = record.get("time", 0)
        if isinstance(when, bool) or not isinstance(when, int | float | str):
            raise InvalidInput(f'posts line {number}: "time" must be a number or an ISO 8601 date')
        try:
            seconds = timestamp(when)
        except InvalidInput as exc:
            raise InvalidInput(f"posts line {number}: {exc}") from None
        yield Post(
            account=str(account),
            time=seconds,
            text=text,
            hashtags=tuple(hashtags) if hashtags is not None else None,
        )
