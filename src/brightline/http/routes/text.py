"""API v1 text signals: term hits and migration signals in texts; account risk scores.

The term lists (``BRIGHTLINE_TEXT_TERM_LISTS``) and the weights (``BRIGHTLINE_TEXT_WEIGHTS``)
are loaded once, when the app is created, by :func:`router_for`: a bad file stops the service
from starting instead of failing requests later. Term banks in the database are named per
request (``lists``); a matcher for them is built on first use and kept for the same versions.
Everything here is for review: no endpoint flags, blocks or records anything, and no text is
logged or kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import replace
from functools import cache
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from brightline.access import Principal, Role
from brightline.errors import InvalidInput, NotFound
from brightline.http.auth import Matcher, require
from brightline.http.routes.matching import ERRORS
from brightline.http.schemas import NOT_BLANK
from brightline.http.state import service_state
from brightline.settings import Settings
from brightline.text.account_risk import (
    AccountPost,
    AccountRiskScorer,
    AccountScore,
    RiskWeights,
)
from brightline.text.matching import TermMatcher
from brightline.text.migration import MigrationExtractor
from brightline.text.term_banks import get_list, list_lists, load_term_list, version_label
from brightline.text.terms import TermList

TEXT_BODY_BYTES = 16 * 1024 * 1024
"""Largest request body of a text endpoint (by ``Content-Length``; the service-wide cap still
applies to a chunked body): text is parsed into memory whole, unlike uploads, which stream."""
HARD_MAX_TEXT_CHARS = 1_000_000
HARD_MAX_ITEMS = 100_000
"""Schema limits; the configured ones (``max_text_chars``, ``max_posts``, the batch size) are
checked in the handlers and are usually far lower."""

MAX_DB_LISTS = 16
CACHED_MATCHERS = 4
"""Matchers kept for database term lists (per worker): one per combination of lists and
versions asked for; a change to a list makes a new one on its next use."""

TextReader = Annotated[Principal, Depends(require(Role.MATCHER, Role.REVIEWER))]
ListReader = Annotated[
    Principal, Depends(require(Role.MATCHER, Role.REVIEWER, Role.CURATOR, Role.AUDITOR))
]


async def _body_size(request: Request) -> None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > TEXT_BODY_BYTES:
        raise HTTPException(
            413, f"the request body is larger than the limit of {TEXT_BODY_BYTES} bytes"
        )


class TextMatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    texts: list[Annotated[str, Field(max_length=HARD_MAX_TEXT_CHARS)]] = Field(
        min_length=1,
        max_length=HARD_MAX_ITEMS,
        description="Texts to match (at most BRIGHTLINE_MAX_BATCH_SIZE).",
        examples=[["join us at example[.]org, #z0rblax"]],
    )
    extract: bool = Field(True, description="Also find migration signals.")
    lists: list[Annotated[str, Field(min_length=1, max_length=100, pattern=NOT_BLANK)]] = Field(
        default_factory=list,
        max_length=MAX_DB_LISTS,
        description="Term lists in the database, by name, matched as well as the configured "
        "term list files (GET /v1/text/lists names them).",
    )


class TermHitOut(BaseModel):
    list: str
    list_version: str
    term: str
    mode: str = Field(description="token, compact or hashtag.")
    match: str = Field(description="exact, normalised, leet, homoglyph or compact.")
    start: int = Field(description="Code point offset into the text (inclusive).")
    end: int = Field(description="Code point offset into the text (exclusive).")
    weight: float
    hashtag: bool


class ExtractionOut(BaseModel):
    kind: str
    value: str
    start: int
    end: int
    confidence: float
    service: str | None = None
    detail: str | None = None


class TextResultOut(BaseModel):
    index: int = Field(description="Position of the text in the request.")
    terms: list[TermHitOut]
    signals: list[ExtractionOut]


class TermListOut(BaseModel):
    name: str
    version: str
    terms: int


class TextMatchOut(BaseModel):
    results: list[TextResultOut]
    term_lists: list[TermListOut]


class TermBankOut(BaseModel):
    name: str
    version: str = Field(description="v and the list's version number, as hits report it.")
    terms: int
    description: str | None = None


class TermBanksOut(BaseModel):
    lists: list[TermBankOut]


class _BankMatchers:
    """Matchers for database term lists, by the lists' names and versions, least recently used
    dropped first. Building one for thousands of terms takes seconds, and reading the terms is
    a query per list: both happen once per version. A request only reads the lists' versions."""

    def __init__(self, files: list[TermList]) -> None:
        self._files = files
        self._lock = threading.Lock()
        self._cache: OrderedDict[
            tuple[tuple[str, int], ...], tuple[TermMatcher, list[TermListOut]]
        ] = OrderedDict()

    def get(self, request: Request, names: list[str]) -> tuple[TermMatcher, list[TermListOut]]:
        """The matcher for the files and the named lists at their current versions, and the
        lists as the answer shows them. An unknown or empty list is an :class:`InvalidInput`
        naming its place in ``lists``."""
        with service_state(request).transaction() as session:
            wanted: list[tuple[int, str, int]] = []
            for index, name in enumerate(names):
                if name in names[:index]:
                    continue
                try:
                    bank = get_list(session=session, name=name)
                except NotFound:
                    raise InvalidInput(f"lists[{index}]: no term list with that name") from None
                wanted.append((index, bank.name, bank.version))
            key = tuple((name, version) for _, name, version in wanted)
            with self._lock:
                found = self._cache.get(key)
                if found is not None:
                    self._cache.move_to_end(key)
                    return found
            loaded: list[TermList] = []
            for index, name, version in wanted:
                try:
                    loaded.append(load_term_list(session=session, name=name, version=version))
                except InvalidInput:
                    raise InvalidInput(f"lists[{index}]: the term list has no terms") from None
        built = (
            TermMatcher([*self._files, *loaded]),
            [
                TermListOut(name=item.name, version=item.version, terms=len(item.terms))
                for item in loaded
            ],
        )
        with self._lock:
            self._cache[key] = built
            while len(self._cache) > CACHED_MATCHERS:
                self._cache.popitem(last=False)
        return built


class AccountPostIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK, examples=["user-0001"])
    text: str = Field(max_length=HARD_MAX_TEXT_CHARS)
    hashtags: list[Annotated[str, Field(max_length=200)]] | None = Field(
        None, max_length=64, description="The post's hashtags (default: taken from the text)."
    )


class AccountsScoreIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    posts: list[AccountPostIn] = Field(min_length=1, max_length=HARD_MAX_ITEMS)
    confirmed: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list,
        max_length=HARD_MAX_ITEMS,
        description="Accounts already confirmed by review: accounts sharing an identifier or "
        "hashtag with them are linked (an explained contribution).",
    )
    top: int | None = Field(None, ge=1, le=HARD_MAX_ITEMS, description="Only the N highest.")
    lists: list[Annotated[str, Field(min_length=1, max_length=100, pattern=NOT_BLANK)]] = Field(
        default_factory=list,
        max_length=MAX_DB_LISTS,
        description="Term lists in the database, by name, matched as well as the configured "
        "term list files (as for POST /v1/text/match).",
    )


class ContributionOut(BaseModel):
    feature: str
    value: float
    weight: float
    amount: float = Field(description="weight * value; the amounts sum to the score.")
    detail: str | None = None


class AccountScoreOut(BaseModel):
    account: str
    score: float = Field(description="Log-odds: the sum of the contributions.")
    probability: float
    posts: int
    confirmed: bool
    shared_with: list[str]
    contributions: list[ContributionOut]


class AccountsScoreOut(BaseModel):
    accounts: list[AccountScoreOut] = Field(description="Highest score first; for review only.")
    calibrated: bool = Field(description="False while the shipped default weights are in use.")


@cache
def _default_extractor() -> MigrationExtractor:
    """The shipped tables' extractor, built once per process (every app in a test run)."""
    return MigrationExtractor()


def router_for(settings: Settings) -> APIRouter:
    """The ``/v1/text`` routes, with the configured term lists and weights loaded now."""
    term_lists = [TermList.load(path) for path in settings.text.term_lists]
    matcher = TermMatcher(term_lists) if term_lists else None
    weights = (
        RiskWeights.load(settings.text.weights)
        if settings.text.weights is not None
        else RiskWeights.default()
    )
    extractor = _default_extractor()
    scorer = AccountRiskScorer(matcher=matcher, extractor=extractor, weights=weights)
    lists_out = [
        TermListOut(name=item.name, version=item.version, terms=len(item.terms))
        for item in term_lists
    ]
    max_texts = settings.service.max_batch_size
    max_chars = settings.text.max_text_chars
    max_posts = settings.text.max_posts
    bank_matchers = _BankMatchers(term_lists)

    router = APIRouter(prefix="/v1/text", tags=["text"], dependencies=[Depends(_body_size)])

    @router.post("/match", response_model=TextMatchOut, responses=ERRORS, summary="Match texts")
    def match_texts(request: Request, body: TextMatchIn, _: Matcher) -> TextMatchOut:
        """Term hits (configured term lists and the named database lists) and migration
        signals in each text, for review.

        Offsets are code points into each text. Nothing is stored or logged.
        """
        if len(body.texts) > max_texts:
            raise InvalidInput(f"at most {max_texts} texts per request")
        for index, text in enumerate(body.texts):
            _check_text(text, f"texts[{index}]", max_chars)
        used = matcher
        shown = lists_out
        if body.lists:
            used, banks_out = bank_matchers.get(request, body.lists)
            shown = lists_out + banks_out
        hits = used.match_many(body.texts) if used is not None else [[] for _ in body.texts]
        signals = extractor.extract_many(body.texts) if body.extract else [[] for _ in body.texts]
        results = [
            TextResultOut(
                index=index,
                terms=[
                    TermHitOut(
                        list=hit.list_name,
                        list_version=hit.list_version,
                        term=hit.term,
                        mode=hit.mode.value,
                        match=hit.match_type.value,
                        start=hit.start,
                        end=hit.end,
                        weight=hit.weight,
                        hashtag=hit.in_hashtag,
                    )
                    for hit in text_hits
                ],
                signals=[
                    ExtractionOut(
                        kind=item.kind.value,
                        value=item.value,
                        start=item.start,
                        end=item.end,
                        confidence=item.confidence,
                        service=item.service,
                        detail=item.detail,
                    )
                    for item in text_signals
                ],
            )
            for index, (text_hits, text_signals) in enumerate(zip(hits, signals, strict=True))
        ]
        return TextMatchOut(results=results, term_lists=shown)

    @router.get("/lists", response_model=TermBanksOut, responses=ERRORS, summary="List term banks")
    def term_banks(request: Request, _: ListReader) -> TermBanksOut:
        """The term lists in the database (names, versions, sizes; never their terms)."""
        with service_state(request).transaction() as session:
            found = list_lists(session=session)
        return TermBanksOut(
            lists=[
                TermBankOut(
                    name=item.name,
                    version=version_label(item.version),
                    terms=item.terms,
                    description=item.description,
                )
                for item in found
            ]
        )

    @router.post(
        "/accounts/score",
        response_model=AccountsScoreOut,
        responses=ERRORS,
        summary="Score accounts for review",
    )
    def score_accounts(request: Request, body: AccountsScoreIn, _: TextReader) -> AccountsScoreOut:
        """Posts grouped by account → one additive score per account, with its contributions.

        The score orders accounts for a person to review; text alone never triggers any action.
        Term hits come from the configured term list files and the named database ``lists``.
        """
        if len(body.posts) > max_posts:
            raise InvalidInput(f"at most {max_posts} posts per request")
        for index, post in enumerate(body.posts):
            _check_text(post.text, f"posts[{index}].text", max_chars)
            _check_text(post.account, f"posts[{index}].account", max_chars)
            for tag in post.hashtags or ():
                _check_text(tag, f"posts[{index}].hashtags", max_chars)
        for account in body.confirmed:
            _check_text(account, "confirmed", max_chars)
        posts = [
            AccountPost(
                account=post.account,
                text=post.text,
                hashtags=tuple(post.hashtags) if post.hashtags is not None else None,
            )
            for post in body.posts
        ]
        used = scorer
        if body.lists:
            matcher_for_lists, _shown = bank_matchers.get(request, body.lists)
            used = replace(scorer, matcher=matcher_for_lists)
        scores = used.score(posts, confirmed=body.confirmed)
        return AccountsScoreOut(
            accounts=[_score_out(score) for score in scores[: body.top]],
            calibrated=weights.calibration is not None,
        )

    return router


def _check_text(text: str, where: str, max_chars: int) -> None:
    """Refuse what the matchers cannot take: over the configured length, or a lone surrogate
    (valid in JSON's ``\\u`` escapes, but not a character: it could not be answered in UTF-8)."""
    if len(text) > max_chars:
        raise InvalidInput(f"{where}: longer than {max_chars} characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{where}: contains an unpaired surrogate") from None


def _score_out(score: AccountScore) -> AccountScoreOut:
    return AccountScoreOut(
        account=score.account,
        score=score.score,
        probability=score.probability,
        posts=score.posts,
        confirmed=score.confirmed,
        shared_with=list(score.shared_with),
        contributions=[
            ContributionOut(
                feature=item.feature,
                value=item.value,
                weight=item.weight,
                amount=item.amount,
                detail=item.detail,
            )
            for item in score.contributions
        ],
    )
