"""CyberTipline reports: built reports and the items (files) each one covers

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

``reports.xml`` and ``report_items.file_details_xml`` hold personal data; the evidence vault will
hold them encrypted in a later part (see docs/reports.md).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("subject_id", BIG_ID, nullable=False),
        sa.Column("case_id", BIG_ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("incident_type", sa.String(length=100), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("clearinghouse_report_id", sa.BigInteger(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("xml", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('draft', 'queued', 'submitted', 'finished', 'failed', 'retracted')",
            name=op.f("ck_reports_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["review_subjects.id"],
            name=op.f("fk_reports_subject_id_review_subjects"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["review_cases.id"],
            name=op.f("fk_reports_case_id_review_cases"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint(
            "clearinghouse_report_id", name=op.f("uq_reports_clearinghouse_report_id")
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_reports_subject_id"), "reports", ["subject_id"])
    op.create_index(op.f("ix_reports_case_id"), "reports", ["case_id"])
    op.create_table(
        "report_items",
        sa.Column("report_id", BIG_ID, nullable=False),
        sa.Column("item_id", BIG_ID, nullable=False),
        sa.Column("file_details_xml", sa.Text(), nullable=False),
        sa.Column("media_ref", sa.String(length=2000), nullable=False),
        sa.Column("md5", sa.String(length=32), nullable=False),
        sa.Column("sha1", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_report_items_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["review_items.id"],
            name=op.f("fk_report_items_item_id_review_items"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("report_id", "item_id", name=op.f("pk_report_items")),
    )
    op.create_index(op.f("ix_report_items_item_id"), "report_items", ["item_id"])


def downgrade() -> None:
    op.drop_table("report_items")
    op.drop_table("reports")
