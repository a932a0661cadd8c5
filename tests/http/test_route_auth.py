"""Every route needs an API key unless it is listed in ``auth.PUBLIC_PATHS``: checked by walking
each route's dependencies for :func:`brightline.http.auth.require` (its ``required_roles``) and by
calling every route without a key, which must answer 401 ``unauthenticated``.

The review console (``/console``, :mod:`brightline.web`) signs people in with sessions instead:
its routes must depend on the session check (``current_viewer``) unless listed in
``CONSOLE_PUBLIC``, and without a session they redirect to the sign-in page or refuse (4xx).

A route added without either fails here; ``test_the_check_catches_a_route_without_auth`` proves
it on throwaway routes added to a fresh app.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import fastapi.routing
import httpx
import pytest
from fastapi import Depends, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette import convertors

from brightline.http import auth, create_app
from brightline.settings import Settings

try:
    from brightline.web.security import current_viewer as console_session
except ImportError:  # a tree without the review console
    console_session = None

try:
    from brightline.web.portal import current_officer as portal_session
except ImportError:  # a tree without the law-enforcement portal
    portal_session = None

PORTAL_PREFIX = "/portal"
PORTAL_PUBLIC = frozenset(
    {"/portal/", "/portal/login", "/portal/login/code", "/portal/login/access"}
)
"""The portal's pages for officers not signed in yet (its own sessions: ``current_officer``)."""
CONSOLE_PREFIX = "/console"
CONSOLE_PUBLIC = frozenset({"/console/login", "/console/static/{name}"})
"""The console's pages for people not signed in yet (brightline.web declares no such list)."""

PATH_PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")
SAMPLE_VALUES: list[tuple[type[convertors.Convertor[Any]], object]] = [
    (convertors.IntegerConvertor, 1),
    (convertors.FloatConvertor, 1.0),
    (convertors.UUIDConvertor, uuid.UUID(int=1)),
]


@dataclass(frozen=True)
class Operation:
    """One method of one API route, as the app serves it (router prefixes and dependencies
    included)."""

    method: str
    path: str
    dependant: Dependant
    convertors: dict[str, convertors.Convertor[Any]]

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _route_views(app: FastAPI) -> Iterator[Any]:
    """The routes as served. FastAPI ≥ 0.16x keeps included routers lazily in ``app.routes``
    and exposes the effective routes (prefix and router dependencies applied) through
    ``iter_route_contexts``; older versions copy them into ``app.routes``."""
    iter_contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    if iter_contexts is None:
        yield from app.routes
    else:
        yield from iter_contexts(app.routes)


def operations(app: FastAPI) -> list[Operation]:
    found = []
    for view in _route_views(app):
        if not isinstance(getattr(view, "original_route", view), APIRoute):
            continue
        for method in sorted(view.methods or ()):
            found.append(Operation(method, view.path, view.dependant, dict(view.param_convertors)))
    return found


def other_routes(app: FastAPI) -> list[str]:
    """Paths of routes FastAPI's dependency system does not see (plain Starlette routes, mounts):
    they cannot carry ``require``."""
    return [
        str(getattr(view, "path", view))
        for view in _route_views(app)
        if not isinstance(getattr(view, "original_route", view), APIRoute)
    ]


def required_roles(dependant: Dependant) -> list[tuple[object, ...]]:
    """The ``required_roles`` of every dependency of ``dependant``, however deeply nested."""
    found = []
    for dependency in dependant.dependencies:
        roles = getattr(dependency.call, "required_roles", None)
        if roles is not None:
            found.append(tuple(roles))
        found.extend(required_roles(dependency))
    return found


def has_session_check(dependant: Dependant) -> bool:
    """Whether the console's session check is among the dependencies, however deeply nested."""
    return console_session is not None and any(
        dependency.call is console_session or has_session_check(dependency)
        for dependency in dependant.dependencies
    )


def is_console(operation: Operation) -> bool:
    return operation.path == CONSOLE_PREFIX or operation.path.startswith(CONSOLE_PREFIX + "/")


def is_portal(operation: Operation) -> bool:
    return operation.path == PORTAL_PREFIX or operation.path.startswith(PORTAL_PREFIX + "/")


def has_portal_session_check(dependant: Dependant) -> bool:
    """Whether the portal's officer session check is among the dependencies, however deep."""
    return portal_session is not None and any(
        dependency.call is portal_session or has_portal_session_check(dependency)
        for dependency in dependant.dependencies
    )


def is_public(operation: Operation) -> bool:
    return (
        operation.path in auth.PUBLIC_PATHS
        or (is_console(operation) and operation.path in CONSOLE_PUBLIC)
        or (is_portal(operation) and operation.path in PORTAL_PUBLIC)
    )


def is_guarded(operation: Operation) -> bool:
    if is_portal(operation):
        return has_portal_session_check(operation.dependant)
    if is_console(operation):
        return has_session_check(operation.dependant)
    return bool(required_roles(operation.dependant))


def unguarded(app: FastAPI) -> list[str]:
    """Operations that are neither public nor guarded (API keys, or console sessions)."""
    return [
        str(operation)
        for operation in operations(app)
        if not is_public(operation) and not is_guarded(operation)
    ]


def docs_paths(app: FastAPI) -> set[str]:
    """The routes FastAPI itself adds for the API description (public by design)."""
    paths = {app.openapi_url, app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url}
    return {path for path in paths if path}


def concrete_path(operation: Operation) -> str:
    def sample(match: re.Match[str]) -> str:
        convertor = operation.convertors.get(match.group(1))
        for kind, value in SAMPLE_VALUES:
            if isinstance(convertor, kind):
                return str(convertor.to_string(value))
        return "x"

    return PATH_PARAM.sub(sample, operation.path)


def call(
    client: TestClient, operation: Operation, headers: dict[str, str] | None = None
) -> httpx.Response:
    """Call ``operation`` with dummy path parameters and a minimal body of the type it takes."""
    app = client.app
    assert isinstance(app, FastAPI)
    described = app.openapi()["paths"].get(operation.path, {}).get(operation.method.lower(), {})
    content = described.get("requestBody", {}).get("content", {})
    body: dict[str, Any] = {}
    if "application/json" in content:
        body["json"] = {}
    elif "multipart/form-data" in content:
        names = [field.alias for field in operation.dependant.body_params] or ["file"]
        body["files"] = [(name, ("x.bin", b"\x00", "application/octet-stream")) for name in names]
    elif content:
        body["content"] = b"\x00"
    return client.request(
        operation.method, concrete_path(operation), headers=headers, follow_redirects=False, **body
    )


def test_every_route_needs_a_key_unless_public(client: TestClient) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    assert unguarded(app) == []
    assert set(other_routes(app)) <= auth.PUBLIC_PATHS | docs_paths(app)

    guarded = [
        op
        for op in operations(app)
        if not is_public(op) and not is_console(op) and not is_portal(op)
    ]
    assert len(guarded) >= 15, "the enumeration lost the API routes"
    failures = []
    for operation in guarded:
        for headers in (None, {"Authorization": "Bearer bl_not_a_key"}):
            response = call(client, operation, headers)
            body = response.json() if "json" in response.headers.get("content-type", "") else {}
            if response.status_code != 401 or body.get("error") != "unauthenticated":
                failures.append(f"{operation} ({headers}): {response.status_code} {body}")
            elif not response.headers.get("www-authenticate", "").startswith("Bearer"):
                failures.append(f"{operation}: 401 without a Bearer challenge")
    assert failures == []


def test_console_pages_need_a_session(client: TestClient) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    console = [op for op in operations(app) if is_console(op) and not is_public(op)]
    if not console:
        pytest.skip("this tree has no review console")
    failures = []
    for operation in console:
        for headers in (None, {"Cookie": "bl_session=not-a-session"}):
            response = call(client, operation, headers)
            location = response.headers.get("location", "")
            signs_in = response.is_redirect and location.startswith(f"{CONSOLE_PREFIX}/login")
            refused = 400 <= response.status_code < 500 and response.status_code != 404
            if not (signs_in or refused):
                failures.append(f"{operation} ({headers}): {response.status_code} {location}")
    assert failures == []


def test_portal_pages_need_an_officer_session(client: TestClient) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    portal = [op for op in operations(app) if is_portal(op) and not is_public(op)]
    if not portal:
        pytest.skip("this tree has no law-enforcement portal")
    failures = []
    for operation in portal:
        for headers in (None, {"Cookie": "bl_portal=not-a-session"}, {"Cookie": "bl_session=x"}):
            response = call(client, operation, headers)
            location = response.headers.get("location", "")
            signs_in = response.is_redirect and location.startswith(f"{PORTAL_PREFIX}/login")
            refused = 400 <= response.status_code < 500 and response.status_code != 404
            if not (signs_in or refused):
                failures.append(f"{operation} ({headers}): {response.status_code} {location}")
    assert failures == []


def test_public_paths_answer_without_a_key(client: TestClient) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    served = {op.path for op in operations(app)} | set(other_routes(app))
    public = sorted((auth.PUBLIC_PATHS | docs_paths(app)) & served)
    assert {"/health", "/ready", "/openapi.json", "/docs"} <= set(public)
    for path in public:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.text[:200])


def test_the_check_catches_a_route_without_auth(settings: Settings) -> None:
    app = create_app(settings)
    assert unguarded(app) == []

    @app.get("/v1/forgotten")
    def forgotten() -> dict[str, str]:
        return {"secret": "leaked"}

    def looks_like_auth() -> None:
        """A dependency that is not ``require``: it must not count as a guard."""

    @app.post("/v1/half-guarded", dependencies=[Depends(looks_like_auth)])
    def half_guarded() -> dict[str, str]:
        return {"secret": "leaked"}

    assert unguarded(app) == ["GET /v1/forgotten", "POST /v1/half-guarded"]
    if console_session is not None:

        @app.get(f"{CONSOLE_PREFIX}/forgotten", dependencies=[Depends(looks_like_auth)])
        def console_forgotten() -> dict[str, str]:
            return {"secret": "leaked"}

        assert unguarded(app)[-1] == f"GET {CONSOLE_PREFIX}/forgotten"
    # Without the lifespan (no database needed): the throwaway routes answer, not 401.
    test_client = TestClient(app)
    for operation in operations(app):
        if operation.path in {"/v1/forgotten", "/v1/half-guarded", "/console/forgotten"}:
            assert call(test_client, operation).status_code == 200

    app.mount("/static", FastAPI())
    assert "/static" in other_routes(app)
    assert not set(other_routes(app)) <= auth.PUBLIC_PATHS | docs_paths(app)
