"""Clearinghouse intake: providers, received reports and their files

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

The receiving end of the CyberTipline Reporting API. A report's id is the ``reportId`` given to
its provider (never reused: ``sqlite_autoincrement`` on SQLite, a sequence on PostgreSQL); file
bytes are in the encrypted vault, referenced by ``vault_ref``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    target_table = target.partition(".")[0]
    return sa.ForeignKeyConstraint(
        [column],
        [target],
        name=op.f(f"fk_{table}_{column}_{target_table}"),
        ondelete="RESTRICT",
    )


def upgrade() -> None:
    op.create_table(
        "clearinghouse_providers",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("disabled_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clearinghouse_providers")),
        sa.UniqueConstraint("name", name=op.f("uq_clearinghouse_providers_name")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "clearinghouse_reports",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("provider_id", BIG_ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("received_at", WHEN, nullable=False),
        sa.Column("finished_at", WHEN, nullable=True),
        sa.Column("retracted_at", WHEN, nullable=True),
        sa.Column("expired_at", WHEN, nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'finished', 'retracted', 'expired')",
            name=op.f("ck_clearinghouse_reports_status_known"),
        ),
        _fk("clearinghouse_reports", "provider_id", "clearinghouse_providers.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clearinghouse_reports")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_clearinghouse_reports_provider_id"), "clearinghouse_reports", ["provider_id"]
    )
    op.create_index(
        "ix_clearinghouse_reports_status_received_at",
        "clearinghouse_reports",
        ["status", "received_at"],
    )
    op.create_table(
        "clearinghouse_files",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("file_id", sa.String(length=32), nullable=False),
        sa.Column("report_id", BIG_ID, nullable=False),
        sa.Column("vault_ref", sa.String(length=71), nullable=False),
        sa.Column("md5", sa.String(length=32), nullable=False),
        sa.Column("sha1", sa.String(length=40), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("received_at", WHEN, nullable=False),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("details_at", WHEN, nullable=True),
        _fk("clearinghouse_files", "report_id", "clearinghouse_reports.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clearinghouse_files")),
        sa.UniqueConstraint("file_id", name=op.f("uq_clearinghouse_files_file_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_clearinghouse_files_report_id"), "clearinghouse_files", ["report_id"])


def downgrade() -> None:
    for table in ("clearinghouse_files", "clearinghouse_reports", "clearinghouse_providers"):
        op.drop_table(table)
