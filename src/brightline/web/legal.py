"""The console's legal-process accountability page (``/console/legal``) and its CSV.

For oversight, not casework: leads, admins and auditors see how fast legal process was
acknowledged, preserved and answered, what is open and overdue, and the requests waiting
longest. It shows request ids, references, types, dates and agency names only, never the
accounts a request names. Each view is written to the audit log (``legal_view``), each CSV
export as a ``download``, like the audit log's own export.
"""

from __future__ import annotations

import io
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from markupsafe import Markup

from brightline.accounts import AccountRole
from brightline.legal import RequestType, load_legal_settings
from brightline.legal.accountability import (
    DurationSummary,
    LegalStats,
    describe_duration,
    legal_stats,
    write_stats_csv,
)
from brightline.review import AuditAction, audit
from brightline.web.charts import Bar, horizontal_bar_chart
from brightline.web.pages import StateDep, _page
from brightline.web.security import PREFIX, ConsoleRoute, Viewer, require

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

OVERSIGHT = frozenset({AccountRole.ADMIN, AccountRole.LEAD, AccountRole.AUDITOR})
"""Who may see the accountability figures: the roles that see bank health (oversight pages)."""
OversightDep = Annotated[Viewer, Depends(require(OVERSIGHT))]


def _hours(summary: DurationSummary | None) -> float | None:
    if summary is None or summary.median is None:
        return None
    return summary.median.total_seconds() / 3600


def _charts(stats: LegalStats) -> list[tuple[str, Markup]]:
    """Requests received, and median times to acknowledge and to produce, per month and type."""

    def bars(measure: str) -> list[Bar]:
        found = []
        for row in stats.months:
            label = f"{row.month} {row.type.value}"
            css = f"type-{row.type.value}"
            if measure == "received":
                found.append(Bar(label, float(row.received), str(row.received), css))
            else:
                summary = row.acknowledge if measure == "acknowledge" else row.produce
                found.append(Bar(label, _hours(summary), describe_duration(summary.median), css))
        return found

    return [
        ("Requests received", horizontal_bar_chart(
            "Requests received per month and type", bars("received"), chart_id="chart-received"
        )),
        ("Median time to acknowledge", horizontal_bar_chart(
            "Median time to acknowledge per month and type", bars("acknowledge"),
            chart_id="chart-acknowledge",
        )),
        ("Median time to produce", horizontal_bar_chart(
            "Median time to produce per month and type", bars("produce"),
            chart_id="chart-produce",
        )),
    ]  # fmt: skip


@router.get("/legal")
def legal_page(state: StateDep, viewer: OversightDep) -> Response:
    """Response times per month and type, open and overdue work, the slowest open requests."""
    settings = load_legal_settings()
    with state.transaction() as session:
        stats = legal_stats(session=session, zone=settings.calendar.zone)
        audit(
            session=session,
            actor=viewer.username,
            action=AuditAction.LEGAL_VIEW,
            object_type="legal_dashboard",
            object_id="page",
            detail={"months": len(stats.months), "open": stats.open_count},
        )
        return _page(
            session,
            viewer,
            "legal.html",
            stats=stats,
            charts=_charts(stats),
            types=list(RequestType),
            duration=describe_duration,
        )


@router.get("/legal/export.csv")
def legal_csv(state: StateDep, viewer: OversightDep) -> Response:
    """The monthly figures as CSV (durations in hours); the export is recorded."""
    settings = load_legal_settings()
    out = io.StringIO()
    with state.transaction() as session:
        stats = legal_stats(session=session, zone=settings.calendar.zone)
        count = write_stats_csv(stats, out)
        audit(
            session=session,
            actor=viewer.username,
            action=AuditAction.DOWNLOAD,
            object_type="legal_dashboard",
            object_id="csv",
            detail={"rows": count},
        )
    response = Response(out.getvalue(), media_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="brightline-legal.csv"'
    return response
