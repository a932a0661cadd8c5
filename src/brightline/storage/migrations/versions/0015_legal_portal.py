"""Law-enforcement portal: officer sign-in codes and sessions

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04

One-time sign-in codes (kept as a keyed hash only), officer portal sessions (the digest of the
cookie token only) and the portal's used one-time form keys. All three are credentials that
are deleted once spent or expired, so rows are removed with their officer (CASCADE), unlike the
legal-process records of 0011, which are never deleted.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def _officer_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["officer_id"],
        ["legal_officers.id"],
        name=op.f(f"fk_{table}_officer_id_legal_officers"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "legal_portal_codes",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("officer_id", BIG_ID, nullable=False),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("spent_at", WHEN, nullable=True),
        _officer_fk("legal_portal_codes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_portal_codes")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "legal_portal_sessions",
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("officer_id", BIG_ID, nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("last_seen_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        _officer_fk("legal_portal_sessions"),
        sa.PrimaryKeyConstraint("token_digest", name=op.f("pk_legal_portal_sessions")),
    )
    op.create_table(
        "legal_portal_form_keys",
        sa.Column("form_key", sa.String(length=64), nullable=False),
        sa.Column("officer_id", BIG_ID, nullable=False),
        sa.Column("used_at", WHEN, nullable=False),
        _officer_fk("legal_portal_form_keys"),
        sa.PrimaryKeyConstraint("form_key", name=op.f("pk_legal_portal_form_keys")),
    )
    for table in ("legal_portal_codes", "legal_portal_sessions", "legal_portal_form_keys"):
        op.create_index(op.f(f"ix_{table}_officer_id"), table, ["officer_id"])


def downgrade() -> None:
    for table in ("legal_portal_form_keys", "legal_portal_sessions", "legal_portal_codes"):
        op.drop_index(op.f(f"ix_{table}_officer_id"), table_name=table)
        op.drop_table(table)
