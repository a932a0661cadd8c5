"""API v1 matching: uploaded files, URLs and precomputed hashes, one at a time or in batches."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, UploadFile

from brightline.access import Principal
from brightline.errors import BrightlineError, InvalidInput, Unhashable
from brightline.http import metrics
from brightline.http.auth import Matcher
from brightline.http.problems import status_for
from brightline.http.schemas import (
    BatchOut,
    HashBatch,
    HashQuery,
    Problem,
    ResultOut,
    UrlBatch,
    UrlQuery,
)
from brightline.http.state import ServiceState, service_state
from brightline.intake.fetching import FetchLimits, fetch_to_file
from brightline.matching.service import MatchResult, content_from_hash, match_content
from brightline.matchlog import MatchSource, record_matches
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


def lookup(
    state: ServiceState,
    content: HashedContent,
    *,
    source: MatchSource,
    principal: Principal,
    banks: list[str] | None,
) -> MatchResult:
    """Match ``content`` and record every match, in one transaction."""
    metrics.LOOKUPS.labels(source=source.value).inc()
    with state.transaction() as session:
        distance = state.pdq_query_distance(session) if content.signal("pdq") else None
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
            record_matches(
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
    return result


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


@router.get("/hash", response_model=ResultOut, responses=ERRORS, summary="Look up one hash")
def match_hash(
    request: Request,
    principal: Matcher,
    signal_type: Annotated[str, Query(max_length=64, examples=["pdq"])],
    value: Annotated[str, Query(max_length=100_000)],
    banks: Banks = None,
) -> ResultOut:
    state = service_state(request)
    query = HashQuery(signal_type=signal_type, value=value)
    return ResultOut.of(_hash_lookup(state, query, principal, banks))


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
    cap = state.settings.service.max_upload_bytes
    if upload.size is not None and upload.size > cap:
        raise HTTPException(413, f"the upload is larger than the limit of {cap} bytes")
    head = upload.file.read(64 * 1024)
    upload.file.seek(0)
    if (upload.size or 0) <= IN_MEMORY_BYTES and not is_probably_video(head):
        data = upload.file.read(IN_MEMORY_BYTES + 1)
        if data:
            return hash_content(
                data, limits=state.limits, dihedral=state.settings.dihedral, registry=state.registry
            )
        upload.file.seek(0)
    with tempfile.TemporaryDirectory(prefix="brightline-upload-") as scratch:
        path = Path(scratch) / "upload"
        with path.open("wb") as out:
            shutil.copyfileobj(upload.file, out, COPY_CHUNK)
        return hash_file(
            path, limits=state.limits, dihedral=state.settings.dihedral, registry=state.registry
        )


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


@router.post("/file", response_model=ResultOut, responses=ERRORS, summary="Match an uploaded file")
def match_file(
    request: Request, principal: Matcher, file: UploadFile, banks: Banks = None
) -> ResultOut:
    """Images and videos. Content that is not an image or video, or is damaged, still gets its
    exact-hash matches; the result says why perceptual hashing failed (``unhashable``)."""
    state = service_state(request)
    content = _hash_upload(state, file)
    _require_hashed(content)
    return ResultOut.of(
        lookup(state, content, source=MatchSource.UPLOAD, principal=principal, banks=banks)
    )


@router.post("/files", response_model=BatchOut, responses=ERRORS, summary="Match uploaded files")
def match_files(
    request: Request, principal: Matcher, files: list[UploadFile], banks: Banks = None
) -> BatchOut:
    state = service_state(request)
    _check_batch(state, len(files))
    results = []
    for upload in files:
        content = _hash_upload(state, upload)
        try:
            _require_hashed(content)
        except Unhashable as exc:
            results.append(_failed(exc))
            continue
        result = lookup(state, content, source=MatchSource.UPLOAD, principal=principal, banks=banks)
        results.append(ResultOut.of(result))
    return BatchOut(results=results)


def _failed(exc: BrightlineError) -> ResultOut:
    """One batch item's failure: the unhashable reason, else the error's stable code."""
    reason = exc.reason if isinstance(exc, Unhashable) else status_for(exc)[1]
    return ResultOut.failed(reason, str(exc).splitlines()[0] if str(exc) else reason)


def _url_lookup(
    state: ServiceState, url: str, principal: Principal, banks: list[str] | None
) -> MatchResult:
    limits = FetchLimits.from_settings(state.settings)
    with tempfile.TemporaryDirectory(prefix="brightline-fetch-") as scratch:
        path = fetch_to_file(url, directory=Path(scratch), limits=limits)
        content = hash_file(
            path, limits=state.limits, dihedral=state.settings.dihedral, registry=state.registry
        )
    _require_hashed(content)
    return lookup(state, content, source=MatchSource.URL, principal=principal, banks=banks)


@router.post("/url", response_model=ResultOut, responses=ERRORS, summary="Fetch a URL and match it")
def match_url(request: Request, principal: Matcher, body: UrlQuery) -> ResultOut:
    """The URL is fetched safely: private, loopback and link-local addresses are refused (after
    DNS resolution and on every redirect) unless allow-listed, with size and time limits."""
    return ResultOut.of(_url_lookup(service_state(request), body.url, principal, None))


@router.post("/urls", response_model=BatchOut, responses=ERRORS, summary="Fetch and match URLs")
def match_urls(request: Request, principal: Matcher, body: UrlBatch) -> BatchOut:
    state = service_state(request)
    _check_batch(state, len(body.urls))
    results = []
    for url in body.urls:
        try:
            results.append(ResultOut.of(_url_lookup(state, url, principal, body.banks)))
        except BrightlineError as exc:
            results.append(_failed(exc))
    return BatchOut(results=results)
