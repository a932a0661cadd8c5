"""Text term banks, their versions and the variant candidates' review queue

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04

Term lists in the database (``text_term_lists``), their terms with provenance and the versions
they were added and removed in (``text_terms``: rows are never deleted, so any earlier version
can be rebuilt), and discovery's candidates waiting for review (``text_variant_candidates``).
One current term per list, key and mode: a partial unique index on both databases.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
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
        "text_term_lists",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.CheckConstraint("version >= 0", name=op.f("ck_text_term_lists_version_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_term_lists")),
        sa.UniqueConstraint("name", name=op.f("uq_text_term_lists_name")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "text_terms",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("list_id", BIG_ID, nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_ref", sa.String(length=100), nullable=True),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.Column("added_at", WHEN, nullable=False),
        sa.Column("added_version", sa.Integer(), nullable=False),
        sa.Column("removed_by", sa.String(length=200), nullable=True),
        sa.Column("removed_at", WHEN, nullable=True),
        sa.Column("removed_version", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "mode IN ('token', 'compact', 'hashtag')", name=op.f("ck_text_terms_mode_known")
        ),
        sa.CheckConstraint(
            "source IN ('import', 'manual', 'discovery')",
            name=op.f("ck_text_terms_source_known"),
        ),
        sa.CheckConstraint("weight >= 0", name=op.f("ck_text_terms_weight_not_negative")),
        sa.CheckConstraint(
            "removed_version IS NULL OR removed_version > added_version",
            name=op.f("ck_text_terms_removed_after"),
        ),
        _fk("text_terms", "list_id", "text_term_lists.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_terms")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_text_terms_list_id_added_version", "text_terms", ["list_id", "added_version"]
    )
    op.create_index(
        "uq_text_terms_current",
        "text_terms",
        ["list_id", "key", "mode"],
        unique=True,
        sqlite_where=sa.text("removed_version IS NULL"),
        postgresql_where=sa.text("removed_version IS NULL"),
    )
    op.create_table(
        "text_variant_candidates",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("list_id", BIG_ID, nullable=False),
        sa.Column("tag", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("ranks", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("discovered_at", WHEN, nullable=False),
        sa.Column("last_seen_at", WHEN, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", WHEN, nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("term_id", BIG_ID, nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'accepted', 'rejected')",
            name=op.f("ck_text_variant_candidates_status_known"),
        ),
        _fk("text_variant_candidates", "list_id", "text_term_lists.id"),
        _fk("text_variant_candidates", "term_id", "text_terms.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_variant_candidates")),
        sa.UniqueConstraint("list_id", "key", name=op.f("uq_text_variant_candidates_list_id_key")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_text_variant_candidates_status_list_id",
        "text_variant_candidates",
        ["status", "list_id"],
    )


def downgrade() -> None:
    op.drop_table("text_variant_candidates")
    op.drop_index("uq_text_terms_current", table_name="text_terms")
    op.drop_table("text_terms")
    op.drop_table("text_term_lists")
