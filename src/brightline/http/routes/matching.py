"""API v1 matching: uploaded files, URLs and precomputed hashes, one at a time or in batches."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Form, HTTPException, Query, Request, UploadFile
from pydantic import AwareDatetime
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from brightline.access import Principal
from brightline.errors import BrightlineError, InvalidInput, Unhashable
from brightline.http import metrics
from brightline.http.auth import Matcher
from brightline.http.problems import status_for
from brightline.http.schemas import (
    NAME_MAX,
    NO_NUL,
    NOT_BLANK,
    PROFILE_URL_MAX,
    SERVICE_MAX,
    USER_ID_MAX,
    BatchOut,
    HashBatch,
    HashQuery,
    Problem,
    ResultOut,
    SubjectIn,
    UrlBatch,
    UrlQuery,
)
from brightline.http.state import ServiceState, service_state
from brightline.index import PDQIndex
from brightline.intake.fetching import FetchLimits, fetch_to_file
from brightline.matching.service import MatchResult, content_from_hash, match_content
from brightline.matchlog import MatchEvent, MatchSource, record_matches
from brightline.review import ContentFacts, SubjectRef, flag_from_match_events
from brightline.signals import HashedContent, hash_content, hash_file
from brightline.signals.video import is_probably_video

router = APIRouter(prefix="/v1/match", tags=["matching"])

ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": Problem},
    401: {"model": Problem},
    403: {"model": Problem},
    413: {"model": Problem},
    422: {"model": Problem},
}
IN_MEMORY_BYTES = 32 * 1024 * 1024
"""Uploads up to this size (that are not videos) are hashed from memory, larger ones from disk."""
COPY_CHUNK = 1024 * 1024

Banks = Annotated[
    list[str] | None, Query(description="Only match these banks (repeat the parameter).")
]


@dataclass(frozen=True, slots=True)
class Media:
    """The bytes that were hashed, while they still exist: in memory, or a file on disk."""

    data: bytes | None = None
    path: Path | None = None


@dataclass(frozen=True, slots=True)
class HashedUpload:
    content: HashedContent
    media: Media


@dataclass(frozen=True, slots=True)
class ReviewRequest:
    """A client's "flag it for review if it matches": who posted it, when, and its bytes."""

    subject: SubjectRef
    uploaded_at: datetime | None
    media: Media


@dataclass(frozen=True, slots=True)
class FlagOutcome:
    case_id: int
    job_id: int


def lookup(
    state: ServiceState,
    content: HashedContent,
    *,
    source: MatchSource,
    principal: Principal,
    banks: list[str] | None,
) -> MatchResult:
    """Match ``content`` and record every match, in one transaction."""
    return lookup_and_flag(
        state, content, source=source, principal=principal, banks=banks, review=None
    )[0]


def lookup_and_flag(
    state: ServiceState,
    content: HashedContent,
    *,
    source: MatchSource,
    principal: Principal,
    banks: list[str] | None,
    review: ReviewRequest | None,
) -> tuple[MatchResult, FlagOutcome | None]:
    """Match ``content`` and record every match; with ``review``, also flag it, all in one
    transaction: a match is never logged without its flag, nor flagged without being logged.

    Only content that matched is written to the vault. The vault write comes before the flag
    rows, so a failed write (503) rolls back the match log too and a retry starts clean; a
    vault object whose transaction then fails is harmless (encrypted, content-addressed, and
    stored again by the retry for free).
    """
    metrics.LOOKUPS.labels(source=source.value).inc()
    flagged = None
    distance = _query_distance(state) if content.signal("pdq") else None
    with state.transaction() as session:
        result = state.indexes.read(
            lambda images, videos: match_content(
                session=session,
                content=content,
                registry=state.registry,
                pdq_index=images,
                video_index=videos,
                quality_threshold=state.settings.pdq_quality_threshold,
                dihedral=state.settings.dihedral,
                bank_names=banks,
                max_distance=distance,
            )
        )
        if result.matches:
            sha256 = content.signal("sha256")
            event_ids = record_matches(
                session=session,
                matches=result.matches,
                source=source,
                content_sha256=sha256.value if sha256 is not None and content.media_type else None,
                api_key_id=principal.key_id,
                request_id=uuid.uuid4().hex,
                flood_guard=state.settings.flood_guard,
            )
            for match in result.matches:
                metrics.MATCHES.labels(signal_type=match.signal_type, source=source.value).inc()
            if review is not None:
                flagged = _flag(state, session, content, review, event_ids)
    return result, flagged


def _query_distance(state: ServiceState) -> int:
    """The PDQ query distance, read (when stale) in a transaction of its own.

    Never in the lookup's transaction: its connection would then be held while the lookup waits
    for the index's read lock, and a sync holding the write lock waits for a connection. With
    the pool's connections all held by lookups that wait, the two would stall each other until
    the pool's timeout failed the sync.
    """
    cached = state.cached_pdq_query_distance()
    if cached is not None:
        return cached
    with state.transaction() as session:
        return state.pdq_query_distance(session)


def _flag(
    state: ServiceState,
    session: Session,
    content: HashedContent,
    review: ReviewRequest,
    event_ids: list[int],
) -> FlagOutcome:
    """Keep the matched media in the vault and open (or extend) the user's review case."""
    sha256 = content.signal("sha256")
    if sha256 is None:  # the bytes were read whenever a match could be made from them
        raise InvalidInput("nothing to flag: the content has no SHA-256")
    media = review.media
    if media.data is not None:
        media_ref = state.evidence.put(media.data)
    elif media.path is not None:
        media_ref = state.evidence.put_file(media.path)
    else:
        raise InvalidInput("nothing to flag: the content's bytes are gone")
    md5, sha1, pdq = (content.signal(name) for name in ("md5", "sha1", "pdq"))
    facts = ContentFacts(
        sha256=sha256.value,
        md5=md5.value if md5 is not None else None,
        sha1=sha1.value if sha1 is not None else None,
        pdq=pdq.value if pdq is not None else None,
        # Exact-hash matches of content nobody could decode still deserve a reviewer.
        media_type=content.media_type or "application/octet-stream",
        media_ref=media_ref,
        uploaded_at=review.uploaded_at,
    )
    events = list(
        session.scalars(
            select(MatchEvent).where(MatchEvent.id.in_(event_ids)).order_by(MatchEvent.id)
        )
    )
    flagged = flag_from_match_events(
        session=session, subject=review.subject, content=facts, events=events
    )
    return FlagOutcome(case_id=flagged.case.id, job_id=flagged.job.id)


def subject_ref(subject: SubjectIn) -> SubjectRef:
    return SubjectRef(
        service=subject.service,
        platform_user_id=subject.user_id,
        display_name=subject.display_name,
        screen_name=subject.screen_name,
        profile_url=subject.profile_url,
    )


def _result_out(result: MatchResult, flagged: FlagOutcome | None) -> ResultOut:
    if flagged is None:
        return ResultOut.of(result)
    return ResultOut.of(result, case_id=flagged.case_id, job_id=flagged.job_id)


def _check_batch(state: ServiceState, size: int) -> None:
    limit = state.settings.service.max_batch_size
    if size > limit:
        raise InvalidInput(f"a batch holds at most {limit} items, got {size}")


def _hash_lookup(
    state: ServiceState, query: HashQuery, principal: Principal, banks: list[str] | None
) -> MatchResult:
    content = content_from_hash(
        registry=state.registry, signal_type=query.signal_type, value=query.value
    )
    return lookup(state, content, source=MatchSource.HASH, principal=principal, banks=banks)


def _certainly_no_match(state: ServiceState, content: HashedContent) -> bool:
    """True when ``content`` is one PDQ hash and the image index has no candidate for it.

    That answer needs neither the database nor a worker thread, and it is the answer to nearly
    every lookup a platform makes. Anything else (a candidate to check against its bank, an
    exact hash to look up, a stale query distance) goes the full way.
    """
    if content.video is not None or len(content.signals) != 1:
        return False
    [signal] = content.signals
    distance = state.cached_pdq_query_distance()
    if signal.signal_type != "pdq" or distance is None:
        return False
    query = np.frombuffer(bytes.fromhex(signal.value), dtype=np.uint8).reshape(1, 32)

    def candidates(images: PDQIndex, _videos: PDQIndex) -> list[list[tuple[int, int]]]:
        return images.query_many(query, distance) if len(images) else []

    # Never wait on the event loop: while a sync holds (or waits for) the lock, go the slow way.
    acquired, found = state.indexes.try_read(candidates)
    return acquired and not any(found or [])


@router.get("/hash", response_model=ResultOut, responses=ERRORS, summary="Look up one hash")
async def match_hash(
    request: Request,
    principal: Matcher,
    signal_type: Annotated[str, Query(max_length=64, examples=["pdq"])],
    value: Annotated[str, Query(max_length=100_000)],
    banks: Banks = None,
) -> ResultOut:
    """A PDQ hash with no candidate in the index is answered on the event loop; every other
    lookup runs in a worker thread (it reads the database, and records matches)."""
    state = service_state(request)
    content = content_from_hash(registry=state.registry, signal_type=signal_type, value=value)
    if _certainly_no_match(state, content):
        metrics.LOOKUPS.labels(source=MatchSource.HASH.value).inc()
        return ResultOut.of(MatchResult(content=content, matches=(), low_quality=False))
    result = await run_in_threadpool(
        lookup, state, content, source=MatchSource.HASH, principal=principal, banks=banks
    )
    return ResultOut.of(result)


@router.post("/hashes", response_model=BatchOut, responses=ERRORS, summary="Look up many hashes")
def match_hashes(request: Request, principal: Matcher, body: HashBatch) -> BatchOut:
    """Each hash gets its own result; an invalid hash fails only its own item."""
    state = service_state(request)
    _check_batch(state, len(body.hashes))
    results = []
    for query in body.hashes:
        try:
            results.append(ResultOut.of(_hash_lookup(state, query, principal, body.banks)))
        except BrightlineError as exc:
            results.append(_failed(exc))
    return BatchOut(results=results)


def _hash_upload(state: ServiceState, upload: UploadFile) -> HashedContent:
    """Hash an upload: small images from memory, videos and large files from a temporary file."""
    with hashed_upload(state, upload) as hashed:
        return hashed.content


@contextmanager
def hashed_upload(state: ServiceState, upload: UploadFile) -> Iterator[HashedUpload]:
    """:func:`_hash_upload` that also keeps the bytes (or the temporary file) until the block
    ends, so that matching content can be put in the evidence vault before they are gone."""
    cap = state.settings.service.max_upload_bytes
    if upload.size is not None and upload.size > cap:
        raise HTTPException(413, f"the upload is larger than the limit of {cap} bytes")
    head = upload.file.read(64 * 1024)
    upload.file.seek(0)
    if (upload.size or 0) <= IN_MEMORY_BYTES and not is_probably_video(head):
        data = upload.file.read(IN_MEMORY_BYTES + 1)
        if data:
            content = hash_content(
                data, limits=state.limits, dihedral=state.settings.dihedral, registry=state.registry
            )
            yield HashedUpload(content, Media(data=data))
            return
        upload.file.seek(0)
    with tempfile.TemporaryDirectory(prefix="brightline-upload-") as scratch:
        path = Path(scratch) / "upload"
        with path.open("wb") as out:
            shutil.copyfileobj(upload.file, out, COPY_CHUNK)
        content = hash_file(
            path, limits=state.limits, dihedral=state.settings.dihedral, registry=state.registry
        )
        yield HashedUpload(content, Media(path=path))


EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _require_hashed(content: HashedContent) -> None:
    """Nothing worth looking up (an empty body, or nothing computed): the caller's error, a 422.

    Zero bytes still get digests, but looking them up would only "match" the empty-file entries
    that real hash lists contain by mistake, so empty content is refused by its SHA-256.
    """
    sha256 = content.signal("sha256")
    if sha256 is not None and sha256.value == EMPTY_SHA256:
        raise Unhashable("empty", "the content is empty (0 bytes)")
    if not content.signals and content.video is None:
        if content.unhashable is not None:
            raise Unhashable(content.unhashable.reason, content.unhashable.detail)
        raise Unhashable("empty", "nothing could be hashed from the content")


Service = Annotated[
    str | None,
    Form(
        min_length=1,
        max_length=SERVICE_MAX,
        pattern=NOT_BLANK,
        description="Review context: the platform (service) the uploader belongs to.",
    ),
]
UserId = Annotated[
    str | None,
    Form(
        min_length=1,
        max_length=USER_ID_MAX,
        pattern=NOT_BLANK,
        description="Review context: the uploader's id on that platform. With `service`, a "
        "match opens (or extends) a review case for that user.",
    ),
]
Name = Annotated[str | None, Form(max_length=NAME_MAX, pattern=NO_NUL)]
ProfileUrl = Annotated[str | None, Form(max_length=PROFILE_URL_MAX, pattern=NO_NUL)]
UploadedAt = Annotated[
    AwareDatetime | None,
    Form(description="When the user uploaded the content (ISO 8601 with a UTC offset)."),
]


def _form_subject(
    service: str | None,
    user_id: str | None,
    names: tuple[str | None, str | None, str | None],
    uploaded_at: datetime | None,
) -> SubjectRef | None:
    """The review subject from the form fields; None when no review context was given."""
    if service is None and user_id is None:
        if any(name is not None for name in names) or uploaded_at is not None:
            raise InvalidInput(
                "display_name, screen_name, profile_url and uploaded_at need service and user_id"
            )
        return None
    if service is None or user_id is None:
        raise InvalidInput("a review subject needs both service and user_id")
    display_name, screen_name, profile_url = names
    return SubjectRef(
        service=service,
        platform_user_id=user_id,
        display_name=display_name,
        screen_name=screen_name,
        profile_url=profile_url,
    )


def _match_upload(
    state: ServiceState,
    upload: UploadFile,
    principal: Principal,
    banks: list[str] | None,
    subject: SubjectRef | None,
    uploaded_at: datetime | None,
) -> ResultOut:
    with hashed_upload(state, upload) as hashed:
        _require_hashed(hashed.content)
        review = (
            ReviewRequest(subject=subject, uploaded_at=uploaded_at, media=hashed.media)
            if subject is not None
            else None
        )
        result, flagged = lookup_and_flag(
            state,
            hashed.content,
            source=MatchSource.UPLOAD,
            principal=principal,
            banks=banks,
            review=review,
        )
    return _result_out(result, flagged)


@router.post("/file", response_model=ResultOut, responses=ERRORS, summary="Match an uploaded file")
def match_file(
    request: Request,
    principal: Matcher,
    file: UploadFile,
    banks: Banks = None,
    service: Service = None,
    user_id: UserId = None,
    display_name: Name = None,
    screen_name: Name = None,
    profile_url: ProfileUrl = None,
    uploaded_at: UploadedAt = None,
) -> ResultOut:
    """Images and videos. Content that is not an image or video, or is damaged, still gets its
    exact-hash matches; the result says why perceptual hashing failed (``unhashable``).

    With ``service`` and ``user_id`` (review context), matching content is kept encrypted in the
    evidence vault and flagged for review under that user; the result then has ``case_id`` and
    ``job_id``. Content that does not match is never kept."""
    state = service_state(request)
    subject = _form_subject(service, user_id, (display_name, screen_name, profile_url), uploaded_at)
    return _match_upload(state, file, principal, banks, subject, uploaded_at)


@router.post("/files", response_model=BatchOut, responses=ERRORS, summary="Match uploaded files")
def match_files(
    request: Request,
    principal: Matcher,
    files: list[UploadFile],
    banks: Banks = None,
    service: Service = None,
    user_id: UserId = None,
    display_name: Name = None,
    screen_name: Name = None,
    profile_url: ProfileUrl = None,
    uploaded_at: UploadedAt = None,
) -> BatchOut:
    """Review context, when given, applies to every file of the batch (one uploader)."""
    state = service_state(request)
    _check_batch(state, len(files))
    subject = _form_subject(service, user_id, (display_name, screen_name, profile_url), uploaded_at)
    results = []
    for upload in files:
        try:
            results.append(_match_upload(state, upload, principal, banks, subject, uploaded_at))
        except Unhashable as exc:
            results.append(_failed(exc))
    return BatchOut(results=results)


def _failed(exc: BrightlineError) -> ResultOut:
    """One batch item's failure: the unhashable reason, else the error's stable code."""
    reason = exc.reason if isinstance(exc, Unhashable) else status_for(exc)[1]
    return ResultOut.failed(reason, str(exc).splitlines()[0] if str(exc) else reason)


@contextmanager
def fetched_content(state: ServiceState, url: str) -> Iterator[tuple[HashedContent, Path]]:
    """Fetch ``url`` (SSRF-safe, with the service's limits) and hash it. The fetched file
    exists until the block ends, so that matching content can be put in the evidence vault."""
    limits = FetchLimits.from_settings(state.settings)
    with tempfile.TemporaryDirectory(prefix="brightline-fetch-") as scratch:
        path = fetch_to_file(url, directory=Path(scratch), limits=limits)
        content = hash_file(
            path, limits=state.limits, dihedral=state.settings.dihedral, registry=state.registry
        )
        _require_hashed(content)
        yield content, path


def _url_lookup(
    state: ServiceState,
    url: str,
    principal: Principal,
    banks: list[str] | None,
    subject: SubjectRef | None = None,
    uploaded_at: datetime | None = None,
) -> tuple[MatchResult, FlagOutcome | None]:
    with fetched_content(state, url) as (content, path):
        # Matched and flagged while the fetched file still exists: the vault copies it.
        review = (
            ReviewRequest(subject=subject, uploaded_at=uploaded_at, media=Media(path=path))
            if subject is not None
            else None
        )
        return lookup_and_flag(
            state, content, source=MatchSource.URL, principal=principal, banks=banks, review=review
        )


@router.post("/url", response_model=ResultOut, responses=ERRORS, summary="Fetch a URL and match it")
def match_url(request: Request, principal: Matcher, body: UrlQuery) -> ResultOut:
    """The URL is fetched safely: private, loopback and link-local addresses are refused (after
    DNS resolution and on every redirect) unless allow-listed, with size and time limits.

    With a ``subject`` (review context), matching content is kept encrypted in the evidence
    vault and flagged for review under that user; the result then has ``case_id`` and
    ``job_id``. Content that does not match is never kept."""
    if body.subject is None and body.uploaded_at is not None:
        raise InvalidInput("uploaded_at needs a subject")
    subject = subject_ref(body.subject) if body.subject is not None else None
    result, flagged = _url_lookup(
        service_state(request), body.url, principal, None, subject, body.uploaded_at
    )
    return _result_out(result, flagged)


@router.post("/urls", response_model=BatchOut, responses=ERRORS, summary="Fetch and match URLs")
def match_urls(request: Request, principal: Matcher, body: UrlBatch) -> BatchOut:
    state = service_state(request)
    _check_batch(state, len(body.urls))
    results = []
    for url in body.urls:
        try:
            results.append(ResultOut.of(_url_lookup(state, url, principal, body.banks)[0]))
        except BrightlineError as exc:
            results.append(_failed(exc))
    return BatchOut(results=results)
