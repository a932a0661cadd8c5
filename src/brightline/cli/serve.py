"""``brightline serve``: the HTTP service under uvicorn, one or more worker processes.

``--role`` chooses what is served: the platform service (the default), the clearinghouse intake
(the CyberTipline Reporting API under ``/ispws``, see docs/clearinghouse.md), or both in one
app.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from brightline.cli.context import CliContext
from brightline.matching.indexes import MatchIndexes

APP_FACTORIES = {
    "platform": "brightline.http.app:create_app_from_env",
    "clearinghouse": "brightline.http.clearinghouse_routes:create_intake_app_from_env",
    "both": "brightline.http.clearinghouse_routes:create_combined_app_from_env",
}


@click.command()
@click.option("--host", default=None, help="Address to listen on [BRIGHTLINE_HOST, 127.0.0.1].")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="[BRIGHTLINE_PORT, 8000]")
@click.option(
    "--workers", type=click.IntRange(1, 64), default=None, help="Processes [BRIGHTLINE_WORKERS, 1]."
)
@click.option(
    "--role",
    type=click.Choice(sorted(APP_FACTORIES)),
    default="platform",
    show_default=True,
    help="platform: the matching service; clearinghouse: the report intake API; both.",
)
@click.option(
    "--schema",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The CyberTipline XSD the intake validates against "
    "[BRIGHTLINE_CLEARINGHOUSE_SCHEMA_PATH, BRIGHTLINE_REPORTER_SCHEMA_PATH].",
)
@click.pass_obj
def serve(
    obj: CliContext,
    host: str | None,
    port: int | None,
    workers: int | None,
    role: str,
    schema: Path | None,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs). Every platform route but /health and /ready
    needs an API key: create one with `brightline apikey create`; intake paths need a
    provider: `brightline clearinghouse provider add`."""
    import uvicorn

    service = obj.settings.service
    if role != "platform":
        from brightline.http.clearinghouse_routes import (
            SCHEMA_ENV,
            analysis_schedule,
            intake_schema_path,
        )

        if schema is not None:
            # The workers are separate processes: they read it from the environment.
            os.environ[SCHEMA_ENV] = str(schema.resolve())
        intake_schema_path(obj.settings, os.environ)  # refuse now, not in every worker
        analysis_schedule(obj.settings)  # a bad routing, weights or list file: the same
    # Create or check the schema and bring the saved indexes up to date once, here, so that the
    # workers start from a current copy on disk instead of each rebuilding it.
    with obj.transaction() as session:
        if role != "clearinghouse":
            MatchIndexes.open(session=session, index_dir=obj.settings.index_dir)
    obj.close()
    count = workers or service.workers
    if count > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="brightline-metrics-")
    uvicorn.run(
        APP_FACTORIES[role],
        factory=True,
        host=host or service.host,
        port=port or service.port,
        workers=count,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
    )
