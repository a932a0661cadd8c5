"""banks and entries

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "banks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("pdq_threshold", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "pdq_threshold BETWEEN 0 AND 63", name=op.f("ck_banks_pdq_threshold_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_banks")),
        sa.UniqueConstraint("name", name=op.f("uq_banks_name")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "brightline_meta",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_brightline_meta")),
    )
    op.create_table(
        "entry_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("signal_type", sa.String(length=40), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entry_changes")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "bank_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("signal_type", sa.String(length=40), nullable=False),
        sa.Column("signal_version", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(length=2000), nullable=False),
        sa.Column("classification", sa.String(length=2), nullable=True),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("list_name", sa.String(length=200), nullable=True),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("series", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bank_id"],
            ["banks.id"],
            name=op.f("fk_bank_entries_bank_id_banks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_entries")),
        sa.UniqueConstraint(
            "signal_type",
            "value",
            "bank_id",
            name=op.f("uq_bank_entries_signal_type_value_bank_id"),
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_bank_entries_bank_id"), "bank_entries", ["bank_id"], unique=False)
    op.create_index(
        "ix_bank_entries_signal_id", "bank_entries", ["signal_type", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_bank_entries_signal_id", table_name="bank_entries")
    op.drop_index(op.f("ix_bank_entries_bank_id"), table_name="bank_entries")
    op.drop_table("bank_entries")
    op.drop_table("entry_changes")
    op.drop_table("brightline_meta")
    op.drop_table("banks")
