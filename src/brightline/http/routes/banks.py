"""API v1 banks and entries: create, change, bulk add, disable, import and export."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO, Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from brightline.banks import service as banks
from brightline.banks.formats import SNIFF_BYTES, format_options, get_format, guess_format
from brightline.banks.models import Bank
from brightline.banks.records import EntryRecord
from brightline.errors import InvalidInput
from brightline.http.auth import Curator, Reader
from brightline.http.routes.matching import ERRORS
from brightline.http.schemas import (
    BankIn,
    BankOut,
    BankPatch,
    CountOut,
    EntriesIn,
    EntrySelector,
    ImportOut,
)
from brightline.http.state import ServiceState, service_state

router = APIRouter(prefix="/v1/banks", tags=["banks"])

EXPORT_CHUNK = 256 * 1024
SPOOL_BYTES = 8 * 1024 * 1024
FormatName = Annotated[
    str | None,
    Query(
        alias="format",
        max_length=16,
        description="plain, csv, hma, ncmec or vics (default: guessed from the content)",
    ),
]
PlainSignalType = Annotated[
    str | None, Query(max_length=64, description="For the plain format: the signal type.")
]


def _bank_out(bank: Bank) -> BankOut:
    return BankOut(
        name=bank.name,
        description=bank.description,
        enabled=bank.enabled,
        pdq_threshold=bank.pdq_threshold,
        created_at=bank.created_at,
    )


@router.get("", response_model=list[BankOut], responses=ERRORS, summary="List banks")
def list_banks(request: Request, _: Reader) -> list[BankOut]:
    with service_state(request).transaction() as session:
        return [_bank_out(bank) for bank in banks.list_banks(session=session)]


@router.post(
    "", response_model=BankOut, status_code=201, responses=ERRORS | {409: {}}, summary="Create"
)
def create_bank(request: Request, _: Curator, body: BankIn) -> BankOut:
    with service_state(request).transaction() as session:
        bank = banks.create_bank(
            session=session,
            name=body.name,
            description=body.description,
            pdq_threshold=body.pdq_threshold,
        )
        return _bank_out(bank)


@router.get("/{name}", response_model=BankOut, responses=ERRORS | {404: {}}, summary="One bank")
def get_bank(request: Request, _: Reader, name: str) -> BankOut:
    with service_state(request).transaction() as session:
        return _bank_out(banks.get_bank(session=session, name=name))


@router.patch("/{name}", response_model=BankOut, responses=ERRORS | {404: {}, 409: {}})
def update_bank(request: Request, _: Curator, name: str, body: BankPatch) -> BankOut:
    """Rename, describe, re-threshold, enable or disable a bank (disabling stops it matching)."""
    with service_state(request).transaction() as session:
        bank = banks.update_bank(
            session=session,
            name=name,
            enabled=body.enabled,
            pdq_threshold=body.pdq_threshold,
            description=body.description,
        )
        if body.name is not None and body.name != name:
            bank = banks.rename_bank(session=session, name=name, new_name=body.name)
        return _bank_out(bank)


@router.delete("/{name}", response_model=CountOut, responses=ERRORS | {404: {}})
def delete_bank(request: Request, _: Curator, name: str) -> CountOut:
    """Delete the bank and its entries; returns how many entries went with it."""
    with service_state(request).transaction() as session:
        return CountOut(changed=banks.delete_bank(session=session, name=name))


@router.post("/{name}/entries", response_model=ImportOut, responses=ERRORS | {404: {}})
def add_entries(request: Request, _: Curator, name: str, body: EntriesIn) -> ImportOut:
    """Add hashes (idempotent: one already in the bank counts as unchanged). All or nothing:
    an invalid hash rejects the whole request, naming its position."""
    state = service_state(request)
    records = [
        EntryRecord(
            signal_type=entry.signal_type,
            value=entry.value,
            classification=entry.classification,
            category=entry.category,
            external_id=entry.external_id,
            series=entry.series,
            line=number,
        )
        for number, entry in enumerate(body.entries, start=1)
    ]
    with state.transaction() as session:
        report = banks.import_records(
            session=session,
            bank_name=name,
            records=records,
            registry=state.registry,
            source="entries",
        )
    return ImportOut(added=report.added, unchanged=report.unchanged, disabled=report.disabled)


def _set_enabled(
    state: ServiceState, name: str, selector: EntrySelector, *, enabled: bool
) -> CountOut:
    with state.transaction() as session:
        changed = banks.set_entries_enabled(
            session=session,
            bank_name=name,
            enabled=enabled,
            registry=state.registry,
            signal_type=selector.signal_type,
            value=selector.value,
            external_id=selector.external_id,
        )
    return CountOut(changed=changed)


@router.post("/{name}/entries/disable", response_model=CountOut, responses=ERRORS | {404: {}})
def disable_entries(request: Request, _: Curator, name: str, body: EntrySelector) -> CountOut:
    """Stop entries matching (by hash value or external id) without deleting them."""
    return _set_enabled(service_state(request), name, body, enabled=False)


@router.post("/{name}/entries/enable", response_model=CountOut, responses=ERRORS | {404: {}})
def enable_entries(request: Request, _: Curator, name: str, body: EntrySelector) -> CountOut:
    return _set_enabled(service_state(request), name, body, enabled=True)


def _format_for(name: str | None, signal_type: str | None, head: bytes) -> str:
    chosen = name or guess_format("", head)
    if chosen not in {"plain", "csv", "hma", "ncmec", "vics"}:
        raise InvalidInput(f"unknown format {chosen!r}")
    if signal_type is not None and "signal_type" not in format_options(chosen):
        raise InvalidInput(f"the {chosen} format takes no signal_type")
    return chosen


async def _spool_body(request: Request, out: IO[bytes], cap: int) -> None:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise HTTPException(413, f"the body is larger than the limit of {cap} bytes")
        out.write(chunk)
    out.seek(0)


@router.post(
    "/{name}/import",
    response_model=ImportOut,
    responses=ERRORS | {404: {}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def import_entries(
    request: Request,
    _: Curator,
    name: str,
    format_name: FormatName = None,
    signal_type: PlainSignalType = None,
    skip_invalid: Annotated[
        bool, Query(description="Skip bad records instead of failing.")
    ] = False,
) -> ImportOut:
    """Import a hash list sent as the request body (streamed to disk, never held in memory).

    All or nothing unless ``skip_invalid``: the first bad record answers 400 naming its line.
    """
    state = service_state(request)
    with tempfile.TemporaryFile() as body:
        await _spool_body(request, body, state.settings.service.max_upload_bytes)
        head = body.read(SNIFF_BYTES)
        body.seek(0)
        chosen = _format_for(format_name, signal_type, head)
        options = {"signal_type": signal_type} if signal_type else {}
        list_format = get_format(chosen, **options)

        def run() -> banks.ImportReport:
            with state.transaction() as session:
                return banks.import_records(
                    session=session,
                    bank_name=name,
                    records=list_format.read(body),
                    registry=state.registry,
                    source="body",
                    skip_invalid=skip_invalid,
                )

        report = await run_in_threadpool(run)
    return ImportOut(
        added=report.added,
        unchanged=report.unchanged,
        disabled=report.disabled,
        skipped=len(report.skipped),
    )


@router.get(
    "/{name}/export",
    responses=ERRORS | {404: {}, 200: {"content": {"application/octet-stream": {}}}},
    response_class=Response,
)
def export_entries(
    request: Request,
    _: Reader,
    name: str,
    format_name: Annotated[str, Query(alias="format", max_length=16)] = "csv",
    signal_type: Annotated[str | None, Query(max_length=64)] = None,
    include_disabled: bool = False,
) -> StreamingResponse:
    """Stream the bank in one of the core's list formats (spooled to disk past 8 MB)."""
    state = service_state(request)
    list_format = get_format(format_name)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - closed by the stream
    try:
        with state.transaction() as session:
            records = banks.iter_entries(
                session=session,
                bank_name=name,
                signal_type=signal_type,
                include_disabled=include_disabled,
            )
            list_format.write(records, spool)  # type: ignore[arg-type]
        spool.seek(0)
    except BaseException:
        spool.close()
        raise

    def chunks() -> Iterator[bytes]:
        with spool:
            while chunk := spool.read(EXPORT_CHUNK):
                yield chunk

    suffix = {"ncmec": "xml", "vics": "json", "csv": "csv"}.get(format_name, "txt")
    return StreamingResponse(
        chunks(),
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="bank.{suffix}"'},
    )
