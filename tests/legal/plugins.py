"""Legal hook plugins for tests (``tests.legal.plugins:<name>``): synthetic answers only."""

from __future__ import annotations

from collections.abc import Callable

from brightline.legal import ExportedRecord

CALLS: list[tuple[str, dict[str, object]]] = []
"""Every call a plugin here received (tests clear it first)."""
NOT_CALLABLE = 3


class Platform:
    """A stand-in platform with all three methods (a class is a plugin as it is)."""

    def snapshot(self, *, request_id: int, service: str, platform_user_id: str) -> str:
        CALLS.append(("snapshot", {"request_id": request_id, "service": service}))
        return f"snap-{request_id}"

    def export(
        self, *, request_id: int, service: str, platform_user_id: str
    ) -> list[ExportedRecord]:
        CALLS.append(("export", {"request_id": request_id, "service": service}))
        return [ExportedRecord("logins", "text/csv", b"at,address\n2026-11-28,192.0.2.1\n")]

    def page(self, *, role: str, request_id: int, message: str) -> None:
        CALLS.append(("page", {"role": role, "request_id": request_id}))


def make_function() -> Callable[..., object]:
    """A factory returning a plain callable that answers in the wire format."""

    def export(**arguments: object) -> dict[str, object]:
        CALLS.append(("export", dict(arguments)))
        return {"records": [{"kind": "profile", "media_type": "application/json",
                             "content_base64": "eyJwbGFjZWhvbGRlciI6IHRydWV9"}]}  # fmt: skip

    return export


def make_broken() -> Callable[..., object]:
    def broken(**arguments: object) -> object:
        raise RuntimeError("synthetic plugin bug")

    return broken


def make_nothing() -> int:
    return 3
