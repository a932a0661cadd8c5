"""The chain of custody: an append-only, hash-chained log of every event on evidence

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08

No foreign keys, so that the log outlives whatever it names. Triggers refuse UPDATE and DELETE
(and TRUNCATE on PostgreSQL), as for the review audit log: not even a bug in Brightline can
rewrite history. Someone who can drop the triggers can, which the hash chain and the MACs
(under a key outside the database) reveal (docs/custody.md).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
APPEND_ONLY = "custody_log is append-only"


def upgrade() -> None:
    op.create_table(
        "custody_log",
        sa.Column("seq", BIG_ID, autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("object_ref", sa.String(length=71), nullable=True),
        sa.Column("report_id", BIG_ID, nullable=True),
        sa.Column("case_id", BIG_ID, nullable=True),
        sa.Column("hold_id", BIG_ID, nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_custody_log_seq_positive")),
        sa.CheckConstraint(
            "event IN ('preserved', 'accessed', 'exported', 'held', 'hold_renewed', "
            "'hold_released', 'purged')",
            name=op.f("ck_custody_log_event_known"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_custody_log")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_custody_log_prev_hash")),
    )
    op.create_index(op.f("ix_custody_log_object_ref"), "custody_log", ["object_ref"])
    op.create_index(op.f("ix_custody_log_report_id"), "custody_log", ["report_id"])
    op.create_index(op.f("ix_custody_log_hold_id"), "custody_log", ["hold_id"])
    op.create_index(op.f("ix_custody_log_entry_hash"), "custody_log", ["entry_hash"])
    _make_custody_log_append_only()


def _make_custody_log_append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION custody_log_refuse_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{APPEND_ONLY}';
            END
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER custody_log_no_update_or_delete "
            "BEFORE UPDATE OR DELETE ON custody_log "
            "FOR EACH ROW EXECUTE FUNCTION custody_log_refuse_change()"
        )
        op.execute(
            "CREATE TRIGGER custody_log_no_truncate "
            "BEFORE TRUNCATE ON custody_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION custody_log_refuse_change()"
        )
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER custody_log_no_{event.lower()} "
            f"BEFORE {event} ON custody_log "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS custody_log_no_truncate ON custody_log")
        op.execute("DROP TRIGGER IF EXISTS custody_log_no_update_or_delete ON custody_log")
        op.execute("DROP FUNCTION IF EXISTS custody_log_refuse_change()")
    else:
        op.execute("DROP TRIGGER IF EXISTS custody_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS custody_log_no_delete")
    op.drop_table("custody_log")
