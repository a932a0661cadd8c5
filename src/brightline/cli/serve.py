"""``brightline serve``: the HTTP service under uvicorn, one or more worker processes."""

from __future__ import annotations

import os
import tempfile

import click

from brightline.cli.context import CliContext
from brightline.matching.indexes import MatchIndexes


@click.command()
@click.option("--host", default=None, help="Address to listen on [BRIGHTLINE_HOST, 127.0.0.1].")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="[BRIGHTLINE_PORT, 8000]")
@click.option(
    "--workers", type=click.IntRange(1, 64), default=None, help="Processes [BRIGHTLINE_WORKERS, 1]."
)
@click.pass_obj
def serve(obj: CliContext, host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the HTTP API (OpenAPI at /docs). Every route but /health and /ready needs an API
    key: create one with `brightline apikey create`."""
    import uvicorn

    service = obj.settings.service
    # Create or check the schema and bring the saved indexes up to date once, here, so that the
    # workers start from a current copy on disk instead of each rebuilding it.
    with obj.transaction() as session:
        MatchIndexes.open(session=session, index_dir=obj.settings.index_dir)
    obj.close()
    count = workers or service.workers
    if count > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="brightline-metrics-")
    uvicorn.run(
        "brightline.http.app:create_app_from_env",
        factory=True,
        host=host or service.host,
        port=port or service.port,
        workers=count,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
    )
