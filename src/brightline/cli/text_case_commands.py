"""``brightline text open-cases``: put posts with term hits or migration signals up for review.

Reads JSON lines ``{"id": ..., "account": ..., "text": ...}`` (``hashtags`` optional), finds
term hits and migration signals exactly as ``text scan`` and ``text score-accounts`` do, and
opens (or updates) one review item per post that has any, in the account's review case
(:func:`brightline.review.text_cases.open_text_case`). With ``--min-probability`` only accounts
whose risk score reaches it are opened, and the score with its explanation goes with each item.

Text alone never triggers enforcement: this only queues posts for a person to look at. All
posts are read and checked first, then every case is opened in one transaction, so a bad line
opens nothing. The output is one JSON line per post put up for review (ids and outcomes);
the text is stored only in the encrypted evidence vault, and logs carry counts only.
Registered on the ``text`` group in :mod:`brightline.cli.text_commands`.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import click

from brightline.cli.account_risk_commands import _read_confirmed, score_record
from brightline.cli.context import CliContext
from brightline.cli.json_lines import json_objects
from brightline.errors import InvalidInput

if TYPE_CHECKING:
    from brightline.text.account_risk import AccountPost

logger = logging.getLogger(__name__)

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@dataclass(frozen=True, slots=True)
class _Post:
    post_id: str
    account: str
    text: str
    hashtags: tuple[str, ...] | None


@click.command("open-cases")
@click.argument("posts", type=_FILE)
@click.option(
    "--service",
    required=True,
    help="The platform's service name the accounts belong to (as reports name it).",
)
@click.option(
    "--terms",
    "terms_paths",
    type=_FILE,
    multiple=True,
    help="Term list (.txt or .csv), repeatable.",
)
@click.option(
    "--tables",
    "tables_path",
    type=_FILE,
    default=None,
    help="Migration tables (JSON) that extend the shipped ones.",
)
@click.option("--phone-region", default=None, help="Region for numbers without a country code.")
@click.option(
    "--min-probability",
    type=click.FloatRange(0.0, 1.0),
    default=None,
    help="Only accounts whose risk probability reaches this (the score goes with each item).",
)
@click.option("--weights", "weights_path", type=_FILE, default=None, help="Risk weights (JSON).")
@click.option(
    "--confirmed",
    "confirmed_path",
    type=_FILE,
    default=None,
    help="Accounts confirmed by review, one id per line (for the risk score's expansion).",
)
@click.option(
    "--priority", type=click.IntRange(0, 1000), default=0, show_default=True, help="Job priority."
)
@click.pass_obj
def open_cases_command(
    obj: CliContext,
    posts: Path,
    service: str,
    terms_paths: tuple[Path, ...],
    tables_path: Path | None,
    phone_region: str | None,
    min_probability: float | None,
    weights_path: Path | None,
    confirmed_path: Path | None,
    priority: int,
) -> None:
    """Open review cases for the posts in POSTS that have term hits or migration signals.

    POSTS is JSON lines {"id": ..., "account": ..., "text": ...}. Each output line is one post
    put up for review: {"id", "account", "outcome" (opened, updated, unchanged,
    already_decided), "case", "item", "job"}. Nothing is decided or enforced: the posts wait in
    the review queues. A malformed line exits 2, naming the line; nothing is opened.
    """
    from brightline.evidence.store import EvidenceStore
    from brightline.review import SubjectRef
    from brightline.review.text_cases import (
        TextCaseOutcome,
        TextDocument,
        hit_records,
        open_text_case,
        signal_records,
    )
    from brightline.text import MigrationExtractor, MigrationTables, TermList, TermMatcher
    from brightline.text.account_risk import (
        RiskWeights,
        account_features,
        find_signals,
        score_accounts,
    )

    if not service.strip() or len(service) > 200:
        raise InvalidInput("--service is 1 to 200 characters")
    weights = RiskWeights.load(weights_path) if weights_path is not None else RiskWeights.default()
    confirmed = _read_confirmed(confirmed_path) if confirmed_path is not None else set()
    matcher = TermMatcher([TermList.load(path) for path in terms_paths]) if terms_paths else None
    tables = MigrationTables.load(tables_path) if tables_path is not None else None
    extractor = MigrationExtractor(tables, phone_region=phone_region)
    started = time.perf_counter()
    with posts.open("rb") as stream:
        loaded = _read_posts(stream)
    account_posts = [_account_post(post) for post in loaded]
    signals = find_signals(account_posts, matcher=matcher, extractor=extractor)

    scores: dict[str, dict[str, Any]] = {}
    if min_probability is not None:
        features = account_features(account_posts, signals, confirmed=confirmed)
        for score in score_accounts(features, weights):
            if score.probability >= min_probability:
                record = score_record(score)
                scores[score.account] = {
                    "score": record["score"],
                    "probability": record["probability"],
                    "calibrated": weights.calibration is not None,
                    "contributions": record["contributions"],
                }

    store = EvidenceStore.from_settings(obj.settings)
    outcomes: Counter[str] = Counter()
    out = sys.stdout
    with obj.transaction() as session:
        for post, found in zip(loaded, signals, strict=True):
            if min_probability is not None and post.account not in scores:
                continue
            case = open_text_case(
                session=session,
                store=store,
                subject=SubjectRef(service=service, platform_user_id=post.account),
                document=TextDocument(
                    post_id=post.post_id,
                    text=post.text,
                    hits=hit_records(found.term_hits),
                    signals=signal_records(found.extractions),
                    account_score=scores.get(post.account),
                ),
                priority=priority,
            )
            outcomes[case.outcome.value] += 1
            if case.outcome is TextCaseOutcome.NOTHING_FOUND:
                continue
            line = {
                "id": post.post_id,
                "account": post.account,
                "outcome": case.outcome.value,
                "case": case.case_id,
                "item": case.item_id,
                "job": case.job_id,
            }
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    logger.info(
        "text open-cases: %d posts, %d accounts over the threshold, %s in %.2fs",
        len(loaded),
        len(scores),
        dict(outcomes),
        time.perf_counter() - started,
    )


def _account_post(post: _Post) -> AccountPost:
    from brightline.text.account_risk import AccountPost

    return AccountPost(account=post.account, text=post.text, hashtags=post.hashtags)


def _id(record: dict[str, Any], key: str, number: int) -> str:
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidInput(f'posts line {number}: "{key}" must be a string or an integer')
    text = str(value)
    if not text.strip() or len(text) > 200:
        raise InvalidInput(f'posts line {number}: "{key}" must be 1 to 200 characters')
    return text


def _read_posts(stream: BinaryIO) -> list[_Post]:
    """Every post, checked; errors name the line, never its content."""
    from brightline.review.text_cases import MAX_TEXT_CHARS

    posts: list[_Post] = []
    for number, record in json_objects(stream):
        post_id = _id(record, "id", number)
        account = _id(record, "account", number)
        text = record.get("text")
        if not isinstance(text, str):
            raise InvalidInput(f'posts line {number}: "text" must be a string')
        if len(text) > MAX_TEXT_CHARS:
            raise InvalidInput(
                f'posts line {number}: "text" is longer than {MAX_TEXT_CHARS} characters'
            )
        if any("\ud800" <= char <= "\udfff" for char in text):
            # JSON can escape half a surrogate pair; no real text holds one.
            raise InvalidInput(f'posts line {number}: "text" holds an unpaired surrogate')
        hashtags = record.get("hashtags")
        if hashtags is not None and (
            not isinstance(hashtags, list) or not all(isinstance(tag, str) for tag in hashtags)
        ):
            raise InvalidInput(f'posts line {number}: "hashtags" must be a list of strings')
        posts.append(
            _Post(
                post_id=post_id,
                account=account,
                text=text,
                hashtags=tuple(hashtags) if hashtags is not None else None,
            )
        )
    return posts
