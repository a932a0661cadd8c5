"""Request and response bodies of API v1 (they make the OpenAPI description at ``/docs``)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from brightline.matching.service import Match, MatchResult
from brightline.signals import HashedContent


class Problem(BaseModel):
    error: str = Field(description="A stable code, e.g. invalid_input, unhashable, forbidden.")
    detail: str = Field(description="One line for people.")
    reason: str | None = Field(None, description="For unhashable content: the stable reason.")


class HashQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    signal_type: str = Field(examples=["pdq"], max_length=64)
    value: str = Field(max_length=2_000_000, description="The hash, as the signal type writes it.")


class HashBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hashes: list[HashQuery] = Field(min_length=1)
    banks: list[str] | None = Field(None, description="Only these banks (default: all).")


NO_NUL = r"^[^\x00]*$"
"""Pattern for subject fields: NUL cannot be stored in PostgreSQL text, so refuse it up front
(a precise 422) rather than fail the flag's transaction after the media was kept."""
NOT_BLANK = r"^[^\x00]*\S[^\x00]*$"
"""Pattern for names that must hold something besides whitespace (and no NUL)."""
SERVICE_MAX = 200
USER_ID_MAX = 200
NAME_MAX = 500
PROFILE_URL_MAX = 2000
"""Field limits of a review subject; the same as the review core's (``review.flagging``)."""


class SubjectIn(BaseModel):
    """Who posted the content, as the platform knows them: a match then opens a review case.

    Personal data, stored as given in the review tables and never logged.
    """

    model_config = ConfigDict(extra="forbid")
    service: str = Field(
        min_length=1, max_length=SERVICE_MAX, pattern=NOT_BLANK, examples=["example-forum"]
    )
    user_id: str = Field(
        min_length=1, max_length=USER_ID_MAX, pattern=NOT_BLANK, examples=["user-0001"]
    )
    display_name: str | None = Field(None, max_length=NAME_MAX, pattern=NO_NUL)
    screen_name: str | None = Field(None, max_length=NAME_MAX, pattern=NO_NUL)
    profile_url: str | None = Field(None, max_length=PROFILE_URL_MAX, pattern=NO_NUL)


class UrlQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(max_length=4096, examples=["https://media.example.net/upload/1.jpg"])
    subject: SubjectIn | None = Field(
        None, description="Flag matching content for review under this platform user."
    )
    uploaded_at: AwareDatetime | None = Field(
        None, description="When the user uploaded the content (ISO 8601 with a UTC offset)."
    )


class UrlBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    urls: list[str] = Field(min_length=1)
    banks: list[str] | None = None


class UnhashableOut(BaseModel):
    reason: str
    detail: str


class MatchOut(BaseModel):
    bank: str
    entry_id: int
    signal_type: str
    signal_version: int
    value: str
    distance: int
    classification: str | None
    category: str | None
    list_name: str | None
    external_id: str | None
    series: str | None
    transform: str | None = None
    video: dict[str, Any] | None = None

    @classmethod
    def of(cls, match: Match) -> MatchOut:
        data = asdict(match)
        data.pop("bank_id")
        return cls(**data)


class ResultOut(BaseModel):
    status: str = Field(description="match, no_match, low_quality, unhashable or error")
    signals: dict[str, str] = Field(description="Signal type → value, of what was looked up.")
    media_type: str | None = None
    low_quality: bool = False
    unhashable: UnhashableOut | None = None
    matches: list[MatchOut] = []
    case_id: int | None = Field(
        default=None,
        description="The review case the content was flagged into (only with a subject).",
    )
    job_id: int | None = Field(
        default=None, description="The review job that holds the flagged item."
    )

    @classmethod
    def of(
        cls, result: MatchResult, *, case_id: int | None = None, job_id: int | None = None
    ) -> ResultOut:
        return cls(
            status=result.status.value,
            signals=signals_of(result.content),
            media_type=result.content.media_type,
            low_quality=result.low_quality,
            unhashable=(
                UnhashableOut(
                    reason=result.content.unhashable.reason,
                    detail=result.content.unhashable.detail,
                )
                if result.content.unhashable
                else None
            ),
            matches=[MatchOut.of(match) for match in result.matches],
            case_id=case_id,
            job_id=job_id,
        )

    @classmethod
    def failed(cls, reason: str, detail: str) -> ResultOut:
        """One item of a batch that could not be looked up (the others still are)."""
        return cls(
            status="error", signals={}, unhashable=UnhashableOut(reason=reason, detail=detail)
        )


def signals_of(content: HashedContent) -> dict[str, str]:
    return {signal.signal_type: signal.value for signal in content.signals}


class BatchOut(BaseModel):
    results: list[ResultOut]


class BankIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=200, examples=["known-series"])
    description: str = Field("", max_length=10_000)
    pdq_threshold: int = Field(31, ge=0, le=63)


class BankPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    pdq_threshold: int | None = Field(None, ge=0, le=63)
    enabled: bool | None = None


class BankOut(BaseModel):
    name: str
    description: str
    enabled: bool
    pdq_threshold: int
    created_at: datetime


class EntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    signal_type: str = Field(max_length=64)
    value: str = Field(max_length=2_000_000)
    classification: str | None = Field(None, max_length=16)
    category: str | None = Field(None, max_length=200)
    external_id: str | None = Field(None, max_length=200)
    series: str | None = Field(None, max_length=200)


class EntriesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    entries: list[EntryIn] = Field(min_length=1, max_length=10_000)


class EntrySelector(BaseModel):
    model_config = ConfigDict(extra="forbid")
    signal_type: str | None = Field(None, max_length=64)
    value: str | None = Field(None, max_length=2_000_000)
    external_id: str | None = Field(None, max_length=200)


class ImportOut(BaseModel):
    added: int
    unchanged: int
    disabled: int
    skipped: int = 0


class CountOut(BaseModel):
    changed: int


class MatchEventOut(BaseModel):
    id: int
    occurred_at: datetime
    bank: str
    entry_id: int
    signal_type: str
    value: str
    distance: int
    source: str
    content_sha256: str | None


class MatchEventsOut(BaseModel):
    events: list[MatchEventOut]
    next_after_id: int | None = Field(
        description="Pass as after_id for the next page; null when this page is the last."
    )
