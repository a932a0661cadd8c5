"""CyberTipline submissions: the durable outbox that sends built reports, and their receipts

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

Ids, hashes, timestamps and short error texts only: the report and file details stay in the
builder's tables (0007) and are read from there when sent.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "report_submissions",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("report_id", BIG_ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("clearinghouse_report_id", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_token", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("submits_started", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submit_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finish_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retracted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'submitting', 'submitted', 'uploading', 'finishing', "
            "'finished', 'failed')",
            name=op.f("ck_report_submissions_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_report_submissions_report_id_reports"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_submissions")),
        sa.UniqueConstraint("report_id", name=op.f("uq_report_submissions_report_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_report_submissions_status_next_attempt_at",
        "report_submissions",
        ["status", "next_attempt_at"],
    )
    op.create_table(
        "report_submission_files",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("submission_id", BIG_ID, nullable=False),
        sa.Column("item_id", BIG_ID, nullable=False),
        sa.Column("media_ref", sa.String(length=2000), nullable=False),
        sa.Column("md5", sa.String(length=32), nullable=False),
        sa.Column("file_id", sa.String(length=200), nullable=True),
        sa.Column("received_md5", sa.String(length=32), nullable=True),
        sa.Column("uploads_started", sa.Integer(), nullable=False),
        sa.Column("upload_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fileinfo_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["report_submissions.id"],
            name=op.f("fk_report_submission_files_submission_id_report_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_submission_files")),
        sa.UniqueConstraint(
            "submission_id",
            "item_id",
            name=op.f("uq_report_submission_files_submission_id_item_id"),
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_report_submission_files_submission_id"),
        "report_submission_files",
        ["submission_id"],
    )


def downgrade() -> None:
    op.drop_table("report_submission_files")
    op.drop_table("report_submissions")
