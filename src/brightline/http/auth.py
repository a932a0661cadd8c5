"""Authentication and roles, as FastAPI dependencies.

Every route either depends on :func:`require` (the test suite enumerates routes to prove it) or
is listed in :data:`PUBLIC_PATHS`. Keys arrive as ``Authorization: Bearer <key>`` or
``X-API-Key: <key>``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from brightline.access import Principal, Role, authenticate_api_key
from brightline.http.state import service_state

PUBLIC_PATHS = frozenset({"/health", "/ready", "/docs", "/docs/oauth2-redirect", "/openapi.json"})
"""Routes anyone may call: liveness/readiness probes and the API description."""

NETWORK_ROLES = frozenset({Role.MATCHER, Role.CURATOR})
"""What an allow-listed network may do on the HMA-compatible endpoints without a key: what HMA
itself (which has no authentication) lets every caller do, short of administration."""

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="brightline"'}


def _secret_from(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        raise HTTPException(401, "the Authorization header must be 'Bearer <API key>'", _CHALLENGE)
    return request.headers.get("x-api-key") or None


async def _principal(request: Request) -> Principal | None:
    """The caller's principal. Async so that a key verified in the last few seconds (nearly
    every request) is admitted on the event loop: no query and no hop to a worker thread, which
    at thousands of lookups a second is a large share of each request's cost."""
    secret = _secret_from(request)
    if secret is None:
        return None
    state = service_state(request)
    hit, principal = state.auth.cached(secret)
    if not hit:

        def verify() -> Principal | None:
            with state.transaction() as session:
                return authenticate_api_key(session=session, secret=secret)

        principal = await run_in_threadpool(verify)
        state.auth.remember(secret, principal)
    if principal is None:
        raise HTTPException(401, "the API key is unknown or revoked", _CHALLENGE)
    return principal


def _check_roles(principal: Principal, roles: tuple[Role, ...]) -> Principal:
    if not principal.has_any(roles):
        wanted = " or ".join(role.value for role in roles)
        raise HTTPException(403, f"this API key lacks the role this needs ({wanted})")
    return principal


def require(*roles: Role) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency that admits a key holding any of ``roles`` (``admin`` holds them all)."""

    async def dependency(request: Request) -> Principal:
        principal = await _principal(request)
        if principal is None:
            raise HTTPException(401, "an API key is required", _CHALLENGE)
        return _check_roles(principal, roles)

    dependency.required_roles = roles  # type: ignore[attr-defined]
    return dependency


def require_or_open_network(*roles: Role) -> Callable[[Request], Awaitable[Principal]]:
    """Like :func:`require`, but callers from ``hma_open_networks`` need no key (HMA drop-in)."""

    async def dependency(request: Request) -> Principal:
        principal = await _principal(request)
        if principal is None:
            networks = service_state(request).settings.service.hma_open_networks
            if request.client is not None and _in_networks(request.client.host, networks):
                return _check_roles(Principal(None, "open network", NETWORK_ROLES), roles)
            raise HTTPException(401, "an API key is required", _CHALLENGE)
        return _check_roles(principal, roles)

    dependency.required_roles = roles  # type: ignore[attr-defined]
    return dependency


def _in_networks(host: str, networks: tuple[str, ...]) -> bool:
    """Whether the client ``host`` is in one of ``networks``.

    A dual-stack listener reports IPv4 clients as ``::ffff:a.b.c.d``: they are judged by their
    IPv4 address, as the operator wrote the networks. Host bits in a network (``10.0.0.1/8``)
    are ignored, as the settings loader does, rather than failing every keyless request.
    """
    if not networks:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in ipaddress.ip_network(network, strict=False) for network in networks)


Matcher = Annotated[Principal, Depends(require(Role.MATCHER))]
Curator = Annotated[Principal, Depends(require(Role.CURATOR))]
Reader = Annotated[Principal, Depends(require(Role.CURATOR, Role.REVIEWER, Role.AUDITOR))]
Auditor = Annotated[Principal, Depends(require(Role.AUDITOR, Role.REVIEWER))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
