"""HMA-compatible endpoints: the paths and JSON shapes of Meta's Hasher-Matcher-Actioner.

A tool written against HMA ("OpenMediaMatch": ``/h/hash``, ``/m/lookup``, ``/c/bank/...``,
``/status``) can point at Brightline unchanged. These routes only translate shapes: hashing,
matching (with the match log), bank curation and URL fetching are the core's, exactly as the v1
API uses them. Where Brightline deliberately differs (authentication, signal type names, one id per
hash rather than per piece of content, no matching ratios) is in ``docs/hma-compatibility.md``.

HMA has no authentication, so HMA tools send no key: callers from ``hma_open_networks`` need none
here (see :func:`~brightline.http.auth.require_or_open_network`); everyone else sends one.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import replace
from typing import Annotated, Any, cast

from fastapi import APIRouter, Body, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select, tuple_
from starlette.concurrency import run_in_threadpool

from brightline.access import Principal, Role
from brightline.banks import service as banks
from brightline.banks.formats.hma import FROM_THREATEXCHANGE
from brightline.banks.models import Bank, BankEntry
from brightline.banks.records import EntryRecord
from brightline.errors import InvalidInput
from brightline.http.auth import require_or_open_network
from brightline.http.routes.matching import (
    ERRORS,
    _hash_upload,
    _require_hashed,
    fetched_content,
    lookup,
)
from brightline.http.state import ServiceState, service_state
from brightline.matching.service import Match, content_from_hash
from brightline.matchlog import MatchSource
from brightline.signals import HashedContent
from brightline.signals.video import decode_video_hash, encode_video_hash

Matcher = Annotated[Principal, Depends(require_or_open_network(Role.MATCHER))]
Curator = Annotated[Principal, Depends(require_or_open_network(Role.CURATOR))]
AnyHmaRole = Annotated[Principal, Depends(require_or_open_network(Role.MATCHER, Role.CURATOR))]

CONTENT_TYPES = frozenset({"photo", "video"})
"""HMA's content type names; Brightline tells images from videos by their bytes instead."""
INDEXED_SIGNALS = frozenset({"pdq", "vpdq"})
"""Signal types matched through an in-memory index; the others are looked up in the database."""
COMPARE_THRESHOLDS = {"pdq": 31, "vpdq": 20}
"""``/m/compare`` calls a pair a match at or under these distances: PDQ's usual 31 bits (HMA's
and Brightline's default bank threshold), and for vPDQ 80 % of each video's frames found in the
other (vPDQ's distance is 100 minus the smaller share). Other types match only when equal."""
PRIMARY_SIGNALS = ("pdq", "vpdq", "md5", "sha256", "sha1")
"""Which entry's id answers as HMA's content ``id`` when content adds several hashes."""
MAX_HASH_PARAM = 1_000_000
"""Longest hash accepted in a query string (vPDQ hashes of long videos are large)."""

Uploads = Annotated[
    list[UploadFile] | None,
    File(description="The file, sent as field `photo` or `video` (either: the type is sniffed)."),
]
BanksParam = Annotated[
    str | None, Query(max_length=100_000, description="Comma-separated bank names (default: all).")
]
TypesParam = Annotated[
    str | None, Query(max_length=1000, description="Comma-separated signal types to compute.")
]
ContentTypeParam = Annotated[
    str | None, Query(max_length=16, description="photo or video (accepted, not needed).")
]
UrlParam = Annotated[str | None, Query(max_length=4096)]
SignalParam = Annotated[str | None, Query(max_length=MAX_HASH_PARAM)]
SignalTypeParam = Annotated[str | None, Query(max_length=64)]
SeedParam = Annotated[
    str | None, Query(max_length=1000, description="Accepted for HMA; no effect (no ratios).")
]


class _HmaRoute(APIRoute):
    """A route whose error bodies also carry HMA's ``message`` key.

    HMA answers errors as ``{"message": ...}``; HMA tools read that key. The one error mapping of
    :mod:`brightline.http.problems` still builds the answer (status, ``error``, ``detail``); this
    only copies ``detail`` to ``message``, so the two APIs can never disagree on a status.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                respond = _handler_for(request, exc)
                if respond is None:
                    raise
                if inspect.iscoroutinefunction(respond):
                    response = await respond(request, exc)
                else:
                    response = await run_in_threadpool(respond, request, exc)
                return _with_message(cast(Response, response))

        return handle


def _handler_for(request: Request, exc: Exception) -> Callable[..., Any] | None:
    """The app's handler for ``exc`` (most specific class first), as Starlette would pick it;
    None for unexpected errors, which keep propagating to the server-error handling."""
    handlers: dict[Any, Callable[..., Any]] = request.app.exception_handlers
    for kind in type(exc).__mro__:
        if kind in (Exception, BaseException):
            return None
        if kind in handlers:
            return handlers[kind]
    return None


def _with_message(response: Response) -> Response:
    try:
        body = json.loads(bytes(response.body))
    except (ValueError, AttributeError):
        return response
    if not isinstance(body, dict) or "detail" not in body or "message" in body:
        return response
    headers = {
        name: value
        for name, value in response.headers.items()
        if name not in {"content-length", "content-type"}
    }
    return JSONResponse(
        {**body, "message": body["detail"]}, status_code=response.status_code, headers=headers
    )


router = APIRouter(tags=["hma-compatible"], route_class=_HmaRoute)


# --- translating names and parameters --------------------------------------------------------


def _signal_type(state: ServiceState, name: str) -> str:
    """Brightline's name for an HMA signal type name (``video_md5`` is ``md5``).

    An unknown name is the caller's error here (400, as HMA answers), not a missing resource.
    """
    wanted = name.strip().lower()
    wanted = FROM_THREATEXCHANGE.get(wanted, wanted)
    if wanted not in state.registry:
        known = ", ".join([*state.registry.names(), *sorted(FROM_THREATEXCHANGE)])
        raise InvalidInput(f"No such SignalType '{name}' (known: {known})")
    return wanted


def _csv(value: str | None) -> list[str] | None:
    """HMA's comma-separated lists; an empty one means "not given"."""
    if value is None:
        return None
    items = [item.strip() for item in value.split(",") if item.strip()]
    return items or None


def _wanted_types(state: ServiceState, types: str | None) -> set[str] | None:
    names = _csv(types)
    if types is not None and names is None:
        raise InvalidInput("empty signal type selection")
    return None if names is None else {_signal_type(state, name) for name in names}


def _check_content_type(content_type: str | None) -> None:
    if content_type and content_type not in CONTENT_TYPES:
        raise InvalidInput(f"no such content_type: '{content_type}' (photo or video)")


def _restrict(content: HashedContent, wanted: set[str] | None) -> HashedContent:
    """Only the signal types the caller asked for (``types``), so nothing else is matched,
    logged or stored."""
    if wanted is None:
        return content
    pdq = "pdq" in wanted
    return replace(
        content,
        signals=tuple(signal for signal in content.signals if signal.signal_type in wanted),
        pdq_dihedral=content.pdq_dihedral if pdq else (),
        pdq_border_cropped=content.pdq_border_cropped if pdq else None,
        video=content.video if "vpdq" in wanted else None,
    )


def _signals_of(content: HashedContent) -> dict[str, str]:
    """HMA's ``{signal type: hash}``: the digests, PDQ when the image decoded, vPDQ for videos."""
    out = {signal.signal_type: signal.value for signal in content.signals}
    if content.video is not None:
        out["vpdq"] = encode_video_hash(content.video)
    return out


def _by_bank(matches: Iterable[Match]) -> dict[str, list[dict[str, Any]]]:
    """HMA's ``{bank: [{"bank_content_id", "distance"}]}``; HMA writes distances as strings."""
    out: dict[str, list[dict[str, Any]]] = {}
    for match in matches:
        out.setdefault(match.bank, []).append(
            {"bank_content_id": match.entry_id, "distance": str(match.distance)}
        )
    return out


def _by_signal_type(
    content: HashedContent, matches: Sequence[Match]
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Every signal type computed, even those without matches (as HMA answers)."""
    return {
        signal_type: _by_bank(match for match in matches if match.signal_type == signal_type)
        for signal_type in _signals_of(content)
    }


def _one_upload(photo: list[UploadFile] | None, video: list[UploadFile] | None) -> UploadFile:
    uploads: list[UploadFile] = [*(photo or []), *(video or [])]
    if not uploads:
        raise InvalidInput(
            "Missing multipart/form-data file upload (send it as field 'photo' or 'video')"
        )
    if len(uploads) > 1:
        raise InvalidInput("Only one file allowed per request")
    if uploads[0].size == 0:
        # Checked here: the shared upload hashing gives the digests of zero bytes instead.
        raise InvalidInput("the uploaded file is empty")
    return uploads[0]


def _fetch_and_hash(state: ServiceState, url: str) -> HashedContent:
    """Fetch with the same SSRF-safe fetcher and limits as ``/v1/match/url``, then hash."""
    with fetched_content(state, url) as (content, _path):
        return content


def _hashed_input(
    state: ServiceState,
    *,
    url: str | None,
    photo: list[UploadFile] | None,
    video: list[UploadFile] | None,
) -> HashedContent:
    """Content from the ``url`` parameter or else the one uploaded file."""
    if url:
        return _fetch_and_hash(state, url)
    if not photo and not video:
        raise InvalidInput("Neither `url` nor multipart file upload was received")
    content = _hash_upload(state, _one_upload(photo, video))
    _require_hashed(content)
    return content


# --- hashing ---------------------------------------------------------------------------------


@router.get("/h/hash", responses=ERRORS, summary="HMA: fetch a URL and hash it")
def hash_url(
    request: Request,
    _: Matcher,
    url: UrlParam = None,
    content_type: ContentTypeParam = None,
    types: TypesParam = None,
) -> dict[str, str]:
    """``{signal type: hash}`` of the content at ``url``, fetched safely (private addresses
    refused unless allow-listed, size and time limits)."""
    state = service_state(request)
    if not url:
        raise InvalidInput("url is required")
    _check_content_type(content_type)
    wanted = _wanted_types(state, types)
    return _signals_of(_restrict(_fetch_and_hash(state, url), wanted))


@router.post("/h/hash", responses=ERRORS, summary="HMA: hash an uploaded file")
def hash_upload(
    request: Request,
    _: Matcher,
    photo: Uploads = None,
    video: Uploads = None,
    types: TypesParam = None,
) -> dict[str, str]:
    state = service_state(request)
    wanted = _wanted_types(state, types)
    content = _hash_upload(state, _one_upload(photo, video))
    _require_hashed(content)
    return _signals_of(_restrict(content, wanted))


# --- matching --------------------------------------------------------------------------------


def _no_ratios(
    seed: SeedParam = None,
    bypass_coinflip: Annotated[
        bool, Query(description="Accepted for HMA; no effect (banks have no ratios).")
    ] = False,
) -> None:
    """HMA's coin flip over a bank's ``matching_enabled_ratio``: the parameters are accepted so
    HMA tools need no change, and validated, but Brightline banks match always or never."""


@router.get(
    "/m/lookup",
    responses=ERRORS,
    dependencies=[Depends(_no_ratios)],
    summary="HMA: look up a hash or a URL",
)
def lookup_get(
    request: Request,
    principal: Matcher,
    signal: SignalParam = None,
    signal_type: SignalTypeParam = None,
    url: UrlParam = None,
    content_type: ContentTypeParam = None,
    types: TypesParam = None,
    banks: BanksParam = None,
) -> dict[str, Any]:
    """A hash: ``{bank: [{"bank_content_id", "distance"}]}``. A URL: the same per signal type
    computed, ``{signal type: {bank: [...]}}``, or one type's only when ``signal_type`` is given.

    Matches are recorded in the match log, like every Brightline lookup.
    """
    state = service_state(request)
    bank_names = _csv(banks)
    if url:
        _check_content_type(content_type)
        wanted = _wanted_types(state, types)
        selected = _signal_type(state, signal_type) if signal_type else None
        content = _restrict(_fetch_and_hash(state, url), wanted)
        result = lookup(
            state, content, source=MatchSource.URL, principal=principal, banks=bank_names
        )
        grouped = _by_signal_type(content, result.matches)
        return grouped.get(selected, {}) if selected else grouped
    if not signal or not signal_type:
        raise InvalidInput("Either url or both signal and signal_type are required")
    content = _content_from_hash(state, signal_type, signal)
    result = lookup(state, content, source=MatchSource.HASH, principal=principal, banks=bank_names)
    return _by_bank(result.matches)


@router.post(
    "/m/lookup",
    responses=ERRORS,
    dependencies=[Depends(_no_ratios)],
    summary="HMA: look up an uploaded file",
)
def lookup_post(
    request: Request,
    principal: Matcher,
    photo: Uploads = None,
    video: Uploads = None,
    types: TypesParam = None,
    banks: BanksParam = None,
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """``{signal type: {bank: [{"bank_content_id", "distance"}]}}`` for the uploaded file."""
    state = service_state(request)
    wanted = _wanted_types(state, types)
    content = _hash_upload(state, _one_upload(photo, video))
    _require_hashed(content)
    content = _restrict(content, wanted)
    result = lookup(
        state, content, source=MatchSource.UPLOAD, principal=principal, banks=_csv(banks)
    )
    return _by_signal_type(content, result.matches)


def _content_from_hash(state: ServiceState, signal_type: str, value: str) -> HashedContent:
    name = _signal_type(state, signal_type)
    try:
        return content_from_hash(registry=state.registry, signal_type=name, value=value)
    except InvalidInput as exc:
        raise InvalidInput(f"invalid signal: {exc}") from None


@router.get("/m/raw_lookup", responses=ERRORS, summary="HMA: look up a hash, ids only")
def raw_lookup(
    request: Request,
    principal: Matcher,
    signal: Annotated[str, Query(max_length=MAX_HASH_PARAM)],
    signal_type: Annotated[str, Query(max_length=64)],
    banks: BanksParam = None,
    include_distance: bool = False,
) -> dict[str, list[Any]]:
    """``{"matches": [id, ...]}``, or ``[{"bank_content_id", "distance"}]`` with
    ``include_distance``. Unlike HMA, disabled entries and banks never appear."""
    state = service_state(request)
    content = _content_from_hash(state, signal_type, signal)
    result = lookup(state, content, source=MatchSource.HASH, principal=principal, banks=_csv(banks))
    seen: set[int] = set()
    matches: list[Any] = []
    for match in result.matches:  # best first, so the first of an id is its smallest distance
        if match.entry_id in seen:
            continue
        seen.add(match.entry_id)
        matches.append(
            {"bank_content_id": match.entry_id, "distance": str(match.distance)}
            if include_distance
            else match.entry_id
        )
    return {"matches": matches}


@router.post("/m/compare", responses=ERRORS, summary="HMA: compare pairs of hashes")
def compare(
    request: Request,
    _: Matcher,
    body: Annotated[dict[str, Any], Body(examples=[{"pdq": ["f" * 64, "0" + "f" * 63]}])],
) -> dict[str, list[Any]]:
    """``{signal type: [left, right]}`` → ``{signal type: [is_match, {"distance": n}]}``."""
    state = service_state(request)
    results: dict[str, list[Any]] = {}
    for name, pair in body.items():
        if not isinstance(pair, list):
            raise InvalidInput(f"Comparison hashes for {name} was not a list")
        if len(pair) != 2:
            raise InvalidInput(f"Comparison hash list for {name} must have exactly 2 hashes")
        kind = state.registry.get(_signal_type(state, name))
        try:
            left, right = (kind.normalize(value) for value in pair)
        except InvalidInput as exc:
            raise InvalidInput(f"Invalid {name} hash: {exc}") from None
        distance = kind.distance(left, right)
        threshold = COMPARE_THRESHOLDS.get(kind.name, 0)
        results[name] = [distance <= threshold, {"distance": distance}]
    return results


@router.get("/m/index/status", responses=ERRORS, summary="HMA: state of the match indexes")
def index_status(
    request: Request, _: Matcher, signal_type: SignalTypeParam = None
) -> dict[str, dict[str, Any]]:
    """``{signal type: {"present", "built_to", "size"}}``: ``size`` counts the hashes that can
    match (enabled, in enabled banks); ``built_to`` is the Unix time of the newest (-1: none)."""
    state = service_state(request)
    names = [_signal_type(state, signal_type)] if signal_type else state.registry.names()
    with state.transaction() as session:
        rows = session.execute(
            select(BankEntry.signal_type, func.count(BankEntry.id), func.max(BankEntry.added_at))
            .join(Bank, Bank.id == BankEntry.bank_id)
            .where(BankEntry.enabled.is_(True), Bank.enabled.is_(True))
            .group_by(BankEntry.signal_type)
        ).all()
    found = {row[0]: (int(row[1]), row[2]) for row in rows}
    status: dict[str, dict[str, Any]] = {}
    for name in names:
        size, newest = found.get(name, (0, None))
        status[name] = {
            "present": state.ready if name in INDEXED_SIGNALS else True,
            "built_to": int(newest.timestamp()) if newest is not None else -1,
            "size": size,
        }
    return status


# --- curation --------------------------------------------------------------------------------


class BankCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=200, examples=["KNOWN_SERIES"])
    enabled_ratio: float | None = Field(1.0, description="1.0 (enabled) or 0.0 (disabled).")
    enabled: bool | None = None


class BankUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, max_length=200)
    enabled_ratio: float | None = None
    enabled: bool | None = None


class ContentMetadata(BaseModel):
    """HMA's optional metadata of added content. ``content_id`` becomes the entries' external
    id and ``content_uri`` their note; ``json`` is checked and, as in HMA, not stored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    content_id: str | None = Field(None, max_length=200)
    content_uri: str | None = Field(None, max_length=4096)
    json_data: dict[str, Any] | None = Field(None, alias="json")


def _bank_json(bank: Bank) -> dict[str, Any]:
    """HMA's bank: a name and a matching ratio, which in Brightline is all or nothing."""
    return {"name": bank.name, "matching_enabled_ratio": 1.0 if bank.enabled else 0.0}


def _enabled_from_ratio(ratio: float) -> bool:
    if ratio == 1.0:
        return True
    if ratio == 0.0:
        return False
    raise InvalidInput(
        f"enabled_ratio {ratio} is not supported: a Brightline bank is enabled (1.0) or disabled"
        " (0.0); a bank that matches only sometimes would let known material through"
    )


@router.get("/c/banks", responses=ERRORS, summary="HMA: list banks")
def list_banks(request: Request, _: Curator) -> list[dict[str, Any]]:
    with service_state(request).transaction() as session:
        return [_bank_json(bank) for bank in banks.list_banks(session=session)]


@router.post(
    "/c/banks", status_code=201, responses=ERRORS | {409: {}}, summary="HMA: create a bank"
)
def create_bank(request: Request, _: Curator, body: BankCreate) -> dict[str, Any]:
    """Like HMA, an explicit ``enabled_ratio`` wins over ``enabled``; a name in use is a 409."""
    if "enabled_ratio" in body.model_fields_set and body.enabled_ratio is not None:
        enabled = _enabled_from_ratio(body.enabled_ratio)
    else:
        enabled = body.enabled if body.enabled is not None else True
    with service_state(request).transaction() as session:
        bank = banks.create_bank(session=session, name=body.name)
        if not enabled:
            bank = banks.update_bank(session=session, name=body.name, enabled=False)
        return _bank_json(bank)


@router.get("/c/bank/{name}", responses=ERRORS | {404: {}}, summary="HMA: one bank")
def get_bank(request: Request, _: Curator, name: str) -> dict[str, Any]:
    with service_state(request).transaction() as session:
        return _bank_json(banks.get_bank(session=session, name=name))


@router.put("/c/bank/{name}", responses=ERRORS | {404: {}, 409: {}}, summary="HMA: change a bank")
def update_bank(request: Request, _: Curator, name: str, body: BankUpdate) -> dict[str, Any]:
    """Rename, enable or disable (``enabled``, or ``enabled_ratio`` 1.0 / 0.0, which wins)."""
    enabled = body.enabled
    if body.enabled_ratio is not None:
        enabled = _enabled_from_ratio(body.enabled_ratio)
    with service_state(request).transaction() as session:
        bank = banks.update_bank(session=session, name=name, enabled=enabled)
        if body.name is not None and body.name != name:
            bank = banks.rename_bank(session=session, name=name, new_name=body.name)
        return _bank_json(bank)


@router.delete("/c/bank/{name}", responses=ERRORS | {404: {}}, summary="HMA: delete a bank")
def delete_bank(request: Request, _: Curator, name: str) -> dict[str, str]:
    """Deletes the bank and its entries. Unlike HMA, an unknown bank is a 404, not "Done"."""
    with service_state(request).transaction() as session:
        banks.delete_bank(session=session, name=name)
    return {"message": "Done"}


def _stored_value(signal_type: str, value: str) -> str:
    """The value the bank stores: a vPDQ entry's value is the SHA-256 of its frame list (see
    :class:`~brightline.banks.models.VideoSignature`); every other value is stored as given."""
    if signal_type == "vpdq":
        return hashlib.sha256(decode_video_hash(value).to_bytes()).hexdigest()
    return value


def _add_to_bank(
    state: ServiceState,
    name: str,
    signals: dict[str, str],
    metadata: ContentMetadata | None,
    source: str,
) -> dict[str, Any]:
    """Add one piece of content's hashes, all or nothing; answer HMA's ``{"id", "signals"}``
    plus ``entry_ids`` (Brightline keeps one entry, with its own id, per hash)."""
    if not signals:
        raise InvalidInput("No signals given")
    records = [
        EntryRecord(
            signal_type=signal_type,
            value=value,
            external_id=metadata.content_id if metadata else None,
            note=metadata.content_uri if metadata else None,
            line=number,
        )
        for number, (signal_type, value) in enumerate(signals.items(), start=1)
    ]
    with state.transaction() as session:
        bank = banks.get_bank(session=session, name=name)
        banks.import_records(
            session=session, bank_name=name, records=records, registry=state.registry, source=source
        )
        pairs = [(kind, _stored_value(kind, value)) for kind, value in signals.items()]
        ids = {
            kind: entry_id
            for entry_id, kind in session.execute(
                select(BankEntry.id, BankEntry.signal_type).where(
                    BankEntry.bank_id == bank.id,
                    tuple_(BankEntry.signal_type, BankEntry.value).in_(pairs),
                )
            )
        }
    primary = next((kind for kind in PRIMARY_SIGNALS if kind in ids), next(iter(ids)))
    return {"id": ids[primary], "signals": signals, "entry_ids": ids}


def _metadata_from(raw: object) -> ContentMetadata | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise InvalidInput("metadata should be a json object")
    try:
        return ContentMetadata.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidInput(f"Invalid metadata: {where}: {first['msg']}") from None


async def _json_metadata(request: Request, form_field: str | None) -> ContentMetadata | None:
    """HMA reads ``{"metadata": {...}}`` from a JSON body (with ``url``); a file upload may
    carry the same object as the form field ``metadata`` (HMA has no way to, Brightline does)."""
    if form_field is not None:
        try:
            return _metadata_from(json.loads(form_field))
        except ValueError:
            raise InvalidInput("the metadata form field is not JSON") from None
    if not request.headers.get("content-type", "").startswith("application/json"):
        return None
    body = await request.body()
    if not body.strip():
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        raise InvalidInput("the request body is not JSON") from None
    if not isinstance(parsed, dict):
        raise InvalidInput("the request body should be a json object")
    return _metadata_from(parsed.get("metadata"))


@router.post(
    "/c/bank/{name}/content", responses=ERRORS | {404: {}}, summary="HMA: hash content into a bank"
)
async def add_content(
    request: Request,
    _: Curator,
    name: str,
    photo: Uploads = None,
    video: Uploads = None,
    metadata: Annotated[str | None, Form(max_length=10_000)] = None,
    url: UrlParam = None,
    content_type: ContentTypeParam = None,
    types: TypesParam = None,
) -> dict[str, Any]:
    """Hash the content at ``url`` or the uploaded file and add its hashes to the bank.

    As ``brightline bank add`` does: every file digest is added, and PDQ only when its quality
    passes ``pdq_quality_threshold`` (a weak hash would match unrelated images);
    ``not_added`` says why a hash was left out.
    """
    state = service_state(request)
    _check_content_type(content_type)
    wanted = _wanted_types(state, types)
    await run_in_threadpool(_check_bank, state, name)
    details = await _json_metadata(request, metadata)
    content = await run_in_threadpool(_hashed_input, state, url=url, photo=photo, video=video)
    content = _restrict(content, wanted)
    signals = _signals_of(content)
    not_added: dict[str, str] = {}
    pdq = content.signal("pdq")
    floor = state.settings.pdq_quality_threshold
    if pdq is not None and (pdq.quality or 0) < floor:
        del signals["pdq"]
        not_added["pdq"] = f"PDQ quality {pdq.quality} is under the threshold of {floor}"
    if content.unhashable is not None and content.video is None:
        not_added["pdq"] = f"{content.unhashable.reason}: {content.unhashable.detail}"
    if not signals:
        reasons = "; ".join(f"{kind}: {why}" for kind, why in not_added.items())
        raise InvalidInput(f"no hash to add ({reasons or 'none of the requested types'})")
    answer = await run_in_threadpool(_add_to_bank, state, name, signals, details, "content")
    return answer | ({"not_added": not_added} if not_added else {})


def _check_bank(state: ServiceState, name: str) -> None:
    """The bank first (404), as HMA checks it before reading the content."""
    with state.transaction() as session:
        banks.get_bank(session=session, name=name)


@router.post(
    "/c/bank/{name}/signal", responses=ERRORS | {404: {}}, summary="HMA: add hashes to a bank"
)
def add_signal(
    request: Request,
    _: Curator,
    name: str,
    body: Annotated[dict[str, Any], Body(examples=[{"pdq": "f" * 64}])],
) -> dict[str, Any]:
    """``{signal type: hash}`` (one piece of content's hashes) → ``{"id", "signals", ...}``."""
    state = service_state(request)
    _check_bank(state, name)
    signals: dict[str, str] = {}
    for given, value in body.items():
        kind = state.registry.get(_signal_type(state, given))
        if not isinstance(value, str):
            raise InvalidInput(f"Invalid {given} signal: the hash must be a string")
        try:
            signals[kind.name] = kind.normalize(value)
        except InvalidInput as exc:
            raise InvalidInput(f"Invalid {given} signal: {exc}") from None
    return _add_to_bank(state, name, signals, None, "signal")


# --- status ----------------------------------------------------------------------------------


@router.get("/status", response_class=PlainTextResponse, summary="HMA: is the matcher serving")
def status(request: Request, _: AnyHmaRole) -> PlainTextResponse:
    """HMA's text answer: ``I-AM-ALIVE``, or 503 ``INDEX-STALE`` while the indexes cannot be
    synced. Brightline's keyless probes stay ``/health`` and ``/ready``."""
    if not service_state(request).ready:
        return PlainTextResponse("INDEX-STALE", status_code=503)
    return PlainTextResponse("I-AM-ALIVE")
