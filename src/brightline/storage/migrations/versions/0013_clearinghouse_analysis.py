"""Clearinghouse analysis: stored results, referrals with agency feedback, investigator role

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03

One result row per analysed intake report (replaced on every run) and one referral per routed
agency, whose feedback (status, closing reason, by whom, when) survives re-analysis. The console
gains the ``investigator`` role, so the accounts role check is widened.

On SQLite a check constraint can only change by rebuilding ``accounts``; dropping the old table
would cascade into the sessions and used form keys that reference it, so those rows are kept
aside and put back (nobody is signed out by the upgrade).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)
ROLES_BEFORE = "role IN ('admin', 'lead', 'reviewer', 'auditor')"
ROLES_AFTER = "role IN ('admin', 'lead', 'reviewer', 'auditor', 'investigator')"
STATUSES = "'new', 'under_investigation', 'arrest', 'referred', 'closed'"
CLOSING_REASONS = (
    "'unable_to_locate', 'provider_response_lacked_information', 'no_offence_found', 'other'"
)
ACCOUNT_CHILDREN = ("account_sessions", "account_used_form_keys")


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    target_table = target.partition(".")[0]
    return sa.ForeignKeyConstraint(
        [column],
        [target],
        name=op.f(f"fk_{table}_{column}_{target_table}"),
        ondelete="RESTRICT",
    )


def _set_roles(check: str) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for table in ACCOUNT_CHILDREN:
            op.execute(f"CREATE TEMP TABLE _keep_{table} AS SELECT * FROM {table}")  # noqa: S608
    with op.batch_alter_table("accounts") as batch:
        batch.drop_constraint(op.f("ck_accounts_role_known"), type_="check")
        batch.create_check_constraint(op.f("ck_accounts_role_known"), check)
    if sqlite:
        for table in ACCOUNT_CHILDREN:
            op.execute(f"DELETE FROM {table}")  # noqa: S608
            op.execute(f"INSERT INTO {table} SELECT * FROM _keep_{table}")  # noqa: S608
            op.execute(f"DROP TABLE _keep_{table}")


def upgrade() -> None:
    op.create_table(
        "clearinghouse_analysis_results",
        sa.Column("report_id", BIG_ID, nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("informational", sa.Boolean(), nullable=False),
        sa.Column("informational_reasons", sa.Text(), nullable=False),
        sa.Column("overridden", sa.Text(), nullable=False),
        sa.Column("contributions", sa.Text(), nullable=False),
        sa.Column("weights_version", sa.String(length=64), nullable=False),
        sa.Column("files", sa.Text(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=True),
        sa.Column("bundle_id", sa.Integer(), nullable=True),
        sa.Column("linked_group_id", sa.Integer(), nullable=True),
        sa.Column("links", sa.Text(), nullable=False),
        sa.Column("as_of", WHEN, nullable=False),
        sa.Column("analysed_at", WHEN, nullable=False),
        sa.CheckConstraint(
            "tier IN ('immediate', 'high', 'normal', 'informational')",
            name=op.f("ck_clearinghouse_analysis_results_tier_known"),
        ),
        _fk("clearinghouse_analysis_results", "report_id", "clearinghouse_reports.id"),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_clearinghouse_analysis_results")),
    )
    op.create_index(
        "ix_clearinghouse_analysis_results_tier_score",
        "clearinghouse_analysis_results",
        ["tier", "score"],
    )
    op.create_table(
        "clearinghouse_referrals",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("report_id", BIG_ID, nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("regions", sa.Text(), nullable=False),
        sa.Column("routing_reason", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("closing_reason", sa.String(length=64), nullable=True),
        sa.Column("feedback_by", sa.String(length=200), nullable=True),
        sa.Column("feedback_at", WHEN, nullable=True),
        sa.Column("routed_at", WHEN, nullable=False),
        sa.CheckConstraint(
            f"status IN ({STATUSES})", name=op.f("ck_clearinghouse_referrals_status_known")
        ),
        sa.CheckConstraint(
            f"closing_reason IS NULL OR closing_reason IN ({CLOSING_REASONS})",
            name=op.f("ck_clearinghouse_referrals_closing_reason_known"),
        ),
        _fk("clearinghouse_referrals", "report_id", "clearinghouse_reports.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clearinghouse_referrals")),
        sa.UniqueConstraint(
            "report_id", "agency_id", name=op.f("uq_clearinghouse_referrals_report_id_agency_id")
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_clearinghouse_referrals_report_id"), "clearinghouse_referrals", ["report_id"]
    )
    op.create_index(
        "ix_clearinghouse_referrals_agency_id_status",
        "clearinghouse_referrals",
        ["agency_id", "status"],
    )
    _set_roles(ROLES_AFTER)


def downgrade() -> None:
    # The old check refuses investigator accounts; their sessions and form keys cascade.
    op.execute("DELETE FROM accounts WHERE role = 'investigator'")
    _set_roles(ROLES_BEFORE)
    for table in ("clearinghouse_referrals", "clearinghouse_analysis_results"):
        op.drop_table(table)
