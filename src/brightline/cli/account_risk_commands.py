"""``brightline text score-accounts`` and ``brightline text calibrate``: account risk for review.

``score-accounts`` reads posts as JSON lines ``{"account": ..., "text": ...}`` and writes one
JSON line per account: its score (log-odds), probability and every contribution, largest first.
``calibrate`` fits the weights on labelled posts (``"label"`` on every line) and writes them as
versioned JSON. The output holds account ids, numbers and feature names: never post text. A
score orders accounts for a person to review; it never triggers anything by itself.
Registered on the ``text`` group in :mod:`brightline.cli.text_commands`.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import click

from brightline.cli.context import CliContext
from brightline.cli.json_lines import json_objects
from brightline.errors import InvalidInput

if TYPE_CHECKING:
    from brightline.text.account_risk import AccountPost, AccountRiskScorer, AccountScore

logger = logging.getLogger(__name__)

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _scorer_options(function: Any) -> Any:
    function = click.option(
        "--terms",
        "terms_paths",
        type=_FILE,
        multiple=True,
        help="Term list (.txt or .csv), repeatable.",
    )(function)
    function = click.option(
        "--bank",
        "bank_names",
        multiple=True,
        help="A term list from the database, by name (repeatable).",
    )(function)
    function = click.option(
        "--tables",
        "tables_path",
        type=_FILE,
        default=None,
        help="Migration tables (JSON) that extend the shipped ones.",
    )(function)
    return click.option(
        "--confirmed",
        "confirmed_path",
        type=_FILE,
        default=None,
        help="Accounts confirmed by review, one id per line: accounts sharing an identifier "
        "or hashtag with them are linked.",
    )(function)


@click.command("score-accounts")
@click.argument("posts", type=_FILE)
@_scorer_options
@click.option("--weights", "weights_path", type=_FILE, default=None, help="Weights (JSON).")
@click.option("--top", type=click.IntRange(min=1), default=None, help="Only the N highest.")
@click.pass_obj
def score_accounts_command(
    obj: CliContext,
    posts: Path,
    terms_paths: tuple[Path, ...],
    bank_names: tuple[str, ...],
    tables_path: Path | None,
    confirmed_path: Path | None,
    weights_path: Path | None,
    top: int | None,
) -> None:
    """Score the accounts in POSTS (JSON lines {"account": ..., "text": ...}) for review.

    Each output line is one account, highest score first: "score" (log-odds), "probability"
    and "contributions" (feature, value, weight, amount), largest first; the amounts sum to the
    score. A malformed line stops with exit code 2, naming the line; nothing is written.
    """
    from brightline.text.account_risk import RiskWeights

    weights = RiskWeights.load(weights_path) if weights_path is not None else None
    scorer = _scorer(obj, terms_paths, bank_names, tables_path, weights)
    confirmed = _read_confirmed(confirmed_path) if confirmed_path is not None else set()
    started = time.perf_counter()
    with posts.open("rb") as stream:
        loaded, _ = _read_account_posts(stream, labelled=False)
    scores = scorer.score(loaded, confirmed=confirmed)
    out = sys.stdout
    for score in scores[:top]:
        out.write(json.dumps(score_record(score), ensure_ascii=False) + "\n")
    logger.info(
        "text score-accounts: %d posts, %d accounts in %.2fs",
        len(loaded),
        len(scores),
        time.perf_counter() - started,
    )


@click.command("calibrate")
@click.argument("labelled", type=_FILE)
@_scorer_options
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
    help="Where to write the weights (JSON).",
)
@click.option(
    "--l2",
    type=click.FloatRange(min=0.0, min_open=True),
    default=1.0,
    show_default=True,
    help="L2 penalty on the weights.",
)
@click.pass_obj
def calibrate_command(
    obj: CliContext,
    labelled: Path,
    terms_paths: tuple[Path, ...],
    bank_names: tuple[str, ...],
    tables_path: Path | None,
    confirmed_path: Path | None,
    out_path: Path,
    l2: float,
) -> None:
    """Fit account risk weights on LABELLED posts ({"account", "text", "label": 0 or 1}).

    Every line carries its account's label (the same on all its lines). Writes the weights to
    --out and one JSON line with the counts and the training AUC to stdout.
    """
    from brightline.text.account_risk import fit_weights, ranking_auc, score_accounts

    scorer = _scorer(obj, terms_paths, bank_names, tables_path, None)
    confirmed = _read_confirmed(confirmed_path) if confirmed_path is not None else set()
    with labelled.open("rb") as stream:
        loaded, labels = _read_account_posts(stream, labelled=True)
    features = scorer.features(loaded, confirmed=confirmed)
    truth = [labels[item.account] for item in features]
    weights = fit_weights(features, truth, l2=l2)
    scored = {score.account: score.score for score in score_accounts(features, weights)}
    auc = ranking_auc([scored[item.account] for item in features], truth)
    weights.save(out_path)
    summary = {
        "accounts": len(features),
        "positives": sum(truth),
        "training_auc": round(auc, 4),
        "weights": out_path.name,
    }
    sys.stdout.write(json.dumps(summary) + "\n")


def _scorer(
    obj: CliContext,
    terms_paths: tuple[Path, ...],
    bank_names: tuple[str, ...],
    tables_path: Path | None,
    weights: Any,
) -> AccountRiskScorer:
    from brightline.text import MigrationExtractor, MigrationTables, TermList, TermMatcher
    from brightline.text.account_risk import AccountRiskScorer, RiskWeights
    from brightline.text.term_banks import load_term_list

    term_lists = [TermList.load(path) for path in terms_paths]
    if bank_names:
        with obj.transaction() as session:
            term_lists.extend(
                load_term_list(session=session, name=name) for name in dict.fromkeys(bank_names)
            )
    matcher = TermMatcher(term_lists) if term_lists else None
    tables = MigrationTables.load(tables_path) if tables_path is not None else None
    return AccountRiskScorer(
        matcher=matcher,
        extractor=MigrationExtractor(tables),
        weights=weights if weights is not None else RiskWeights.default(),
    )


def score_record(score: AccountScore) -> dict[str, Any]:
    return {
        "account": score.account,
        "score": round(score.score, 6),
        "probability": round(score.probability, 6),
        "posts": score.posts,
        "confirmed": score.confirmed,
        "shared_with": list(score.shared_with),
        "contributions": [
            {
                "feature": item.feature,
                "value": round(item.value, 6),
                "weight": round(item.weight, 6),
                "amount": round(item.amount, 6),
                "detail": item.detail,
            }
            for item in score.contributions
        ],
    }


def _read_confirmed(path: Path) -> set[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise InvalidInput(f"{path.name}: not valid UTF-8") from None
    return {
        line.strip()
        for line in lines
        if line.strip() and not line.startswith("# ") and line.strip() != "#"
    }


def _read_account_posts(
    stream: BinaryIO, *, labelled: bool
) -> tuple[list[AccountPost], dict[str, bool]]:
    """Posts (and, when ``labelled``, each account's label); errors name the line only."""
    from brightline.text.account_risk import AccountPost

    posts: list[AccountPost] = []
    labels: dict[str, bool] = {}
    for number, record in json_objects(stream):
        account = record.get("account")
        if isinstance(account, bool) or not isinstance(account, str | int):
            raise InvalidInput(f'posts line {number}: "account" must be a string or an integer')
        text = record.get("text")
        if not isinstance(text, str):
            raise InvalidInput(f'posts line {number}: "text" must be a string')
        hashtags = record.get("hashtags")
        if hashtags is not None and (
            not isinstance(hashtags, list) or not all(isinstance(tag, str) for tag in hashtags)
        ):
            raise InvalidInput(f'posts line {number}: "hashtags" must be a list of strings')
        if labelled:
            label = record.get("label")
            if label not in (0, 1) or isinstance(label, float):
                raise InvalidInput(f'posts line {number}: "label" must be 0, 1, true or false')
            if labels.setdefault(str(account), bool(label)) != bool(label):
                raise InvalidInput(
                    f"posts line {number}: the label differs from an earlier line's"
                    " for the same account"
                )
        posts.append(
            AccountPost(
                account=str(account),
                text=text,
                hashtags=tuple(hashtags) if hashtags is not None else None,
            )
        )
    return posts, labels
