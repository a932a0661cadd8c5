"""Property-based checks of every operation in the OpenAPI description (schemathesis).

Schemathesis generates requests from ``/openapi.json`` (valid data, and invalid data the schema
forbids) and sends them in-process to the app, over a real database, with an admin key: no
answer may be a server error. A 5xx, or an exception escaping the app, is a bug; the failure
message lists each one with a curl command that reproduces it.

Bounded and reproducible: a fixed number of examples per operation, ``derandomize=True`` (the
same examples on every run), no shrinking and no example database.

On both engines: PostgreSQL refuses things SQLite stores (a NUL character in text, for one), and
the API must answer those with a 4xx too. NUL characters are left out of the PostgreSQL run
while ``test_nul_in_text_is_refused_not_a_storage_error`` records that known bug.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup

from brightline.access import Role
from tests.http.conftest import auth

EXAMPLES = int(os.environ.get("BRIGHTLINE_TEST_SCHEMATHESIS_EXAMPLES", "6"))
"""Per operation, generation mode and path-parameter variant. With every route of the service and
the console this is the slowest test file (about a minute per engine at 6 on two cores, most of
the CI budget's tail); set the variable higher for a deeper run before a release."""

BANK = "known-series"
"""A bank that exists (with entries), so that operations on ``/v1/banks/{name}`` get past 404."""

URL_OPERATIONS = {"POST /v1/match/url", "POST /v1/match/urls"}
"""They fetch the URL: with no network (or a URL nobody serves) 502 upstream_error is right."""

MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
"""Valid requests, and requests the schema forbids (which must get a 4xx, never a 5xx)."""

ASGIApp = Callable[..., Any]


def without_lifespan(app: FastAPI) -> ASGIApp:
    """``app`` for schemathesis's in-process transport, minus the lifespan.

    The ``client`` fixture already runs the app's lifespan (database, indexes, background sync)
    and tears it down after the test; schemathesis would start a second one and keep it until
    the interpreter exits.
    """

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            return  # an app that does not speak lifespan: schemathesis moves on
        await app(scope, receive, send)

    return asgi


def seed_bank(client: TestClient, headers: dict[str, str]) -> None:
    """(Re)create ``BANK`` with a few entries; an earlier example may have deleted or renamed
    it."""
    client.post("/v1/banks", json={"name": BANK}, headers=headers)
    entries = [
        {"signal_type": "pdq", "value": f"{n:064x}", "classification": "A1", "external_id": str(n)}
        for n in range(1, 4)
    ]
    added = client.post(f"/v1/banks/{BANK}/entries", json={"entries": entries}, headers=headers)
    assert added.status_code == 200, added.text


def check_operation(
    operation: schemathesis.APIOperation,
    headers: dict[str, str],
    mode: schemathesis.GenerationMode,
    path_parameters: dict[str, str] | None,
) -> str | None:
    """None, or a description of the first server error the examples provoked."""
    label = f"{operation.method.upper()} {operation.path}"

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    def run(case: schemathesis.Case) -> None:
        try:
            response = case.call(headers=headers)
        except Exception as exc:
            # ServerErrorMiddleware answers 500 and re-raises; in-process, the raise reaches us.
            curl = case.as_curl_command(headers=headers)
            raise AssertionError(f"500: {type(exc).__name__}: {exc}\n    {curl}") from exc
        if response.status_code == 502 and label in URL_OPERATIONS:
            return
        case.validate_response(response, checks=[not_a_server_error], headers=headers)

    try:
        run()
    except Unsatisfiable:
        return None  # negative mode, on an operation without inputs the schema constrains
    except (AssertionError, FailureGroup, ExceptionGroup) as exc:
        return f"{label} [{mode.value}, {path_parameters or 'generated path'}]: {exc}"
    return None


def test_no_operation_answers_a_server_error(
    client: TestClient, keys: dict[Role, str], database_url: str
) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    headers = auth(keys[Role.ADMIN])
    config = schemathesis.Config.from_dict({"generation": {"allow-x00": True}})
    schema = schemathesis.openapi.from_asgi("/openapi.json", without_lifespan(app), config=config)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    # Deletes last, so that the other operations on BANK find it.
    operations.sort(key=lambda operation: (operation.method.upper() == "DELETE", operation.path))

    failures = []
    for operation in operations:
        variants: list[dict[str, str] | None] = [None]
        if "{name}" in operation.path:
            variants.append({"name": BANK})
        for path_parameters in variants:
            for mode in MODES:
                if path_parameters:
                    seed_bank(client, headers)
                failure = check_operation(operation, headers, mode, path_parameters)
                if failure:
                    failures.append(failure)
    assert not failures, "server errors:\n\n" + "\n\n".join(failures)


def test_the_harness_reports_server_errors() -> None:
    """On a throwaway app: an escaping exception and a 5xx answer are reported, a 4xx is not."""
    app = FastAPI()

    @app.get("/crash")
    def crash(n: int) -> dict[str, int]:
        return {"n": n // (n - n)}

    @app.get("/unavailable")
    def unavailable() -> JSONResponse:
        return JSONResponse({"error": "storage_unavailable"}, status_code=503)

    @app.get("/picky")
    def picky(n: int) -> JSONResponse:
        return JSONResponse({"n": n}, status_code=200 if n > 0 else 400)

    schema = schemathesis.openapi.from_asgi("/openapi.json", without_lifespan(app))
    operations = {result.ok().path: result.ok() for result in schema.get_all_operations()}
    positive = schemathesis.GenerationMode.POSITIVE

    crashed = check_operation(operations["/crash"], {}, positive, None)
    assert crashed is not None
    assert "500: ZeroDivisionError" in crashed
    assert "curl -X GET" in crashed
    unavailable_failure = check_operation(operations["/unavailable"], {}, positive, None)
    assert unavailable_failure is not None
    assert "503" in unavailable_failure
    for mode in MODES:
        assert check_operation(operations["/picky"], {}, mode, None) is None


NUL_REQUESTS = [
    ("GET", "/v1/match-events?signal_type=%00", None),
    ("GET", "/v1/match-events?bank=%00", None),
    ("GET", "/v1/banks/%00", None),
    ("GET", f"/v1/banks/{BANK}/export?signal_type=%00", None),
    ("PATCH", f"/v1/banks/{BANK}", {"description": "\x00"}),
    ("POST", "/v1/banks", {"name": "nul", "description": "\x00"}),
    (
        "POST",
        f"/v1/banks/{BANK}/entries",
        {"entries": [{"signal_type": "pdq", "value": "f" * 64, "external_id": "\x00"}]},
    ),
    ("POST", f"/v1/banks/{BANK}/entries/disable", {"external_id": "\x00"}),
]


@pytest.mark.parametrize(
    "database_url",
    [
        "sqlite",
        "postgresql",
    ],
    indirect=True,
)
def test_nul_in_text_is_refused_not_a_storage_error(
    client: TestClient, keys: dict[Role, str]
) -> None:
    """Found by schemathesis on PostgreSQL: a NUL character anywhere in text that reaches a query
    (query, path or body) answered 503 storage_unavailable. Both engines now answer 400."""
    headers = auth(keys[Role.ADMIN])
    seed_bank(client, headers)
    answers = {
        f"{method} {path} {body or ''}": client.request(method, path, json=body, headers=headers)
        for method, path, body in NUL_REQUESTS
    }
    assert {key: r.status_code for key, r in answers.items() if r.status_code != 400} == {}
