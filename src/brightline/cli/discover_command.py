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
    "--top",
    default=50,
    show_default=True,
    type=click.IntRange(min=1),
    help="Write at most this many candidates.",
)
def discover(
    posts: Path,
    seeds: tuple[str, ...],
    seed_list: Path | None,
    known_path: Path | None,
    top: int,
) -> None:
    """Rank candidate variants of the seed tags in POSTS (JSON lines) for review.

    Each post is {"account": ..., "time": ..., "text": ..., "hashtags": [...]}: "account" a
    string or integer; "time" optional, seconds or an ISO 8601 date; "hashtags" optional (taken
    from "text" when missing). Each output line is a candidate with its fused score, its rank in
    each method (cooccurrence, graph, spelling) and the evidence. A malformed line stops with
    exit code 2, naming the line; nothing is written, since the ranking needs every post.
    """
    from brightline.text import TermList
    from brightline.text.discovery import discover as run_discovery

    all_seeds = list(seeds)
    if seed_list is not None:
        all_seeds.extend(_read_seed_list(seed_list))
    if not all_seeds:
        raise InvalidInput("give at least one --seed or a --seed-list")
    known: list[str] = []
    if known_path is not None:
        known = [term.text for term in TermList.load(known_path).terms]
    started = time.perf_counter()
    with posts.open("rb") as stream:
        loaded = list(_read_posts(stream))
    result = run_discovery(loaded, all_seeds, known=known)
    out = sys.stdout
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
