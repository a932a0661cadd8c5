"""Clearinghouse: investigators' agencies and analysis runs

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04

Investigators are limited to the agencies assigned to them
(``clearinghouse_investigator_agencies``, removed with the account); every analysis run is
recorded (``clearinghouse_analysis_runs``), which also lets a scheduled run be skipped when no
report finished since the last one. For the dashboard's timings a result keeps its incident
time and a referral the time it was first routed (filled from ``routed_at`` for referrals that
already exist: the best that is known of them).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)
TRIGGERS = "'command', 'schedule', 'api'"
COUNTS = (
    "reports",
    "refused",
    "immediate",
    "high",
    "normal",
    "informational",
    "referrals",
    "files_known",
    "files_new",
    "files_unchecked",
)


def upgrade() -> None:
    op.create_table(
        "clearinghouse_investigator_agencies",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("assigned_by", sa.String(length=200), nullable=False),
        sa.Column("assigned_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_clearinghouse_investigator_agencies_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "agency_id", name=op.f("pk_clearinghouse_investigator_agencies")
        ),
    )
    op.create_table(
        "clearinghouse_analysis_runs",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("finished_at", WHEN, nullable=False),
        sa.Column("as_of", WHEN, nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("triggered_by", sa.String(length=200), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        sa.Column("weights_version", sa.String(length=64), nullable=False),
        sa.Column("known_sources", sa.Integer(), nullable=False),
        sa.Column("finished_reports", sa.Integer(), nullable=False),
        sa.Column("last_finished_at", WHEN, nullable=True),
        sa.CheckConstraint(
            f"trigger IN ({TRIGGERS})", name=op.f("ck_clearinghouse_analysis_runs_trigger_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clearinghouse_analysis_runs")),
        sqlite_autoincrement=True,
    )
    op.add_column("clearinghouse_analysis_results", sa.Column("incident_at", WHEN, nullable=True))
    op.add_column("clearinghouse_referrals", sa.Column("first_routed_at", WHEN, nullable=True))
    op.execute("UPDATE clearinghouse_referrals SET first_routed_at = routed_at")


def downgrade() -> None:
    with op.batch_alter_table("clearinghouse_referrals") as batch:
        batch.drop_column("first_routed_at")
    with op.batch_alter_table("clearinghouse_analysis_results") as batch:
        batch.drop_column("incident_at")
    op.drop_table("clearinghouse_analysis_runs")
    op.drop_table("clearinghouse_investigator_agencies")
