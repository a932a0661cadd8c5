"""the review core: subjects, cases, items, queues, jobs, decisions, exposure, the audit log

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

The audit log is append-only in the database itself: triggers refuse UPDATE and DELETE (and
TRUNCATE on PostgreSQL), so not even a bug in Brightline can rewrite history.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
APPEND_ONLY = "review_audit_log is append-only"


def upgrade() -> None:
    op.create_table(
        "review_subjects",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("service", sa.String(length=200), nullable=False),
        sa.Column("platform_user_id", sa.String(length=200), nullable=False),
        sa.Column("display_name", sa.String(length=500), nullable=True),
        sa.Column("screen_name", sa.String(length=500), nullable=True),
        sa.Column("profile_url", sa.String(length=2000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_subjects")),
        sa.UniqueConstraint(
            "service",
            "platform_user_id",
            name=op.f("uq_review_subjects_service_platform_user_id"),
        ),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "review_cases",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("subject_id", BIG_ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("urgent_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'closed')", name=op.f("ck_review_cases_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["review_subjects.id"],
            name=op.f("fk_review_cases_subject_id_review_subjects"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_cases")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_review_cases_subject_id", "review_cases", ["subject_id"])
    op.create_index(
        "ix_review_cases_one_open_per_subject",
        "review_cases",
        ["subject_id"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "review_queues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_queues")),
        sa.UniqueConstraint("name", name=op.f("uq_review_queues_name")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "review_routing_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("bank_name", sa.String(length=200), nullable=True),
        sa.Column("classification", sa.String(length=2), nullable=True),
        sa.Column("signal_type", sa.String(length=40), nullable=True),
        sa.Column("source", sa.String(length=40), nullable=True),
        sa.Column("min_priority", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["review_queues.id"],
            name=op.f("fk_review_routing_rules_queue_id_review_queues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_routing_rules")),
        sa.UniqueConstraint("position", name=op.f("uq_review_routing_rules_position")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_review_routing_rules_queue_id", "review_routing_rules", ["queue_id"])
    op.create_table(
        "review_jobs",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("representative_item_id", BIG_ID, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_by", sa.String(length=200), nullable=True),
        sa.Column("lock_token", sa.String(length=64), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'decided')", name=op.f("ck_review_jobs_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["review_queues.id"],
            name=op.f("fk_review_jobs_queue_id_review_queues"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_jobs")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_review_jobs_queue_order",
        "review_jobs",
        ["queue_id", "status", "priority", "created_at"],
    )
    op.create_table(
        "review_job_exclusions",
        sa.Column("job_id", BIG_ID, nullable=False),
        sa.Column("reviewer", sa.String(length=200), nullable=False),
        sa.Column("cause", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["review_jobs.id"],
            name=op.f("fk_review_job_exclusions_job_id_review_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", "reviewer", name=op.f("pk_review_job_exclusions")),
    )
    op.create_table(
        "review_decisions",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("job_id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.Column("classification", sa.String(length=2), nullable=True),
        sa.Column("annotations", sa.String(length=400), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'applied')", name=op.f("ck_review_decisions_status_known")
        ),
        sa.CheckConstraint(
            "kind IN ('confirm', 'false_positive', 'escalate', 'second_opinion')",
            name=op.f("ck_review_decisions_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["review_jobs.id"],
            name=op.f("fk_review_decisions_job_id_review_jobs"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_decisions")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_review_decisions_idempotency_key")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_review_decisions_job_id", "review_decisions", ["job_id"])
    op.create_table(
        "review_items",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("case_id", BIG_ID, nullable=False),
        sa.Column("job_id", BIG_ID, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("md5", sa.String(length=32), nullable=True),
        sa.Column("sha1", sa.String(length=40), nullable=True),
        sa.Column("pdq", sa.String(length=64), nullable=True),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("media_ref", sa.String(length=2000), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("viewed_by_person", sa.Boolean(), nullable=False),
        sa.Column("first_viewed_by", sa.String(length=200), nullable=True),
        sa.Column("first_viewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision", sa.String(length=20), nullable=True),
        sa.Column("classification", sa.String(length=2), nullable=True),
        sa.Column("annotations", sa.String(length=400), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_id", BIG_ID, nullable=True),
        sa.Column("decided_via_group", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "decision IS NULL OR decision IN ('confirm', 'false_positive', 'escalate')",
            name=op.f("ck_review_items_decision_known"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["review_cases.id"],
            name=op.f("fk_review_items_case_id_review_cases"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["review_decisions.id"],
            name=op.f("fk_review_items_decision_id_review_decisions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["review_jobs.id"],
            name=op.f("fk_review_items_job_id_review_jobs"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_items")),
        sa.UniqueConstraint("case_id", "sha256", name=op.f("uq_review_items_case_id_sha256")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_review_items_case_id", "review_items", ["case_id"])
    op.create_index("ix_review_items_job_id", "review_items", ["job_id"])
    op.create_index("ix_review_items_sha256", "review_items", ["sha256"])
    op.create_table(
        "review_item_matches",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("item_id", BIG_ID, nullable=False),
        sa.Column("match_event_id", BIG_ID, nullable=True),
        sa.Column("bank_id", sa.Integer(), nullable=True),
        sa.Column("bank_name", sa.String(length=200), nullable=True),
        sa.Column("entry_id", BIG_ID, nullable=True),
        sa.Column("signal_type", sa.String(length=40), nullable=False),
        sa.Column("distance", sa.Integer(), nullable=True),
        sa.Column("classification", sa.String(length=2), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["review_items.id"],
            name=op.f("fk_review_item_matches_item_id_review_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_item_matches")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_review_item_matches_item_id", "review_item_matches", ["item_id"])
    op.create_table(
        "review_entry_disputes",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("entry_id", BIG_ID, nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=True),
        sa.Column("item_id", BIG_ID, nullable=False),
        sa.Column("decision_id", BIG_ID, nullable=False),
        sa.Column("disputed_by", sa.String(length=200), nullable=False),
        sa.Column("disputed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["review_decisions.id"],
            name=op.f("fk_review_entry_disputes_decision_id_review_decisions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["review_items.id"],
            name=op.f("fk_review_entry_disputes_item_id_review_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_entry_disputes")),
        sa.UniqueConstraint(
            "entry_id", "item_id", name=op.f("uq_review_entry_disputes_entry_id_item_id")
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_review_entry_disputes_entry_id", "review_entry_disputes", ["entry_id"])
    op.create_table(
        "review_bank_precision",
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("bank_name", sa.String(length=200), nullable=False),
        sa.Column("confirmed", sa.Integer(), nullable=False),
        sa.Column("false_positive", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bank_id", name=op.f("pk_review_bank_precision")),
    )
    op.create_table(
        "review_trusted_banks",
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("max_distance", sa.Integer(), nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bank_id"],
            ["banks.id"],
            name=op.f("fk_review_trusted_banks_bank_id_banks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("bank_id", name=op.f("pk_review_trusted_banks")),
    )
    op.create_table(
        "review_exposures",
        sa.Column("reviewer", sa.String(length=200), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reveals", sa.Integer(), nullable=False),
        sa.Column("full_resolution", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("reviewer", "day", name=op.f("pk_review_exposures")),
    )
    op.create_table(
        "review_audit_log",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_audit_log")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_review_audit_log_at", "review_audit_log", ["at"])
    op.create_index("ix_review_audit_log_actor_at", "review_audit_log", ["actor", "at"])
    op.create_index("ix_review_audit_log_object", "review_audit_log", ["object_type", "object_id"])
    _make_audit_log_append_only()


def _make_audit_log_append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION review_audit_log_refuse_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{APPEND_ONLY}';
            END
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER review_audit_log_no_update_or_delete "
            "BEFORE UPDATE OR DELETE ON review_audit_log "
            "FOR EACH ROW EXECUTE FUNCTION review_audit_log_refuse_change()"
        )
        op.execute(
            "CREATE TRIGGER review_audit_log_no_truncate "
            "BEFORE TRUNCATE ON review_audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION review_audit_log_refuse_change()"
        )
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER review_audit_log_no_{event.lower()} "
            f"BEFORE {event} ON review_audit_log "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS review_audit_log_no_truncate ON review_audit_log")
        op.execute(
            "DROP TRIGGER IF EXISTS review_audit_log_no_update_or_delete ON review_audit_log"
        )
        op.execute("DROP FUNCTION IF EXISTS review_audit_log_refuse_change()")
    else:
        op.execute("DROP TRIGGER IF EXISTS review_audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS review_audit_log_no_delete")
    op.drop_table("review_audit_log")
    op.drop_table("review_exposures")
    op.drop_table("review_trusted_banks")
    op.drop_table("review_bank_precision")
    op.drop_table("review_entry_disputes")
    op.drop_table("review_item_matches")
    op.drop_table("review_items")
    op.drop_table("review_decisions")
    op.drop_table("review_job_exclusions")
    op.drop_table("review_jobs")
    op.drop_table("review_routing_rules")
    op.drop_table("review_queues")
    op.drop_table("review_cases")
    op.drop_table("review_subjects")
