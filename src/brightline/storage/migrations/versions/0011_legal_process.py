"""Legal process: agencies, officers, requests, their accounts, attachments, notes, events,
flags and escalations

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10

Attachments are references into the encrypted vault; accounts point at the legal holds (0010)
that preserve their evidence. The event history is append-only: triggers refuse UPDATE and
DELETE (and TRUNCATE on PostgreSQL), as for the custody log (0009).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)
APPEND_ONLY = "legal_request_events is append-only"


def _in(column: str, *values: str) -> str:
    return f"{column} IN (" + ", ".join(f"'{value}'" for value in values) + ")"


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
        "legal_agencies",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("jurisdiction", sa.String(length=100), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_agencies")),
        sa.UniqueConstraint("name", name=op.f("uq_legal_agencies_name")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "legal_agency_domains",
        sa.Column("agency_id", BIG_ID, nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        _fk("legal_agency_domains", "agency_id", "legal_agencies.id"),
        sa.PrimaryKeyConstraint("agency_id", "domain", name=op.f("pk_legal_agency_domains")),
    )
    op.create_index(op.f("ix_legal_agency_domains_domain"), "legal_agency_domains", ["domain"])
    op.create_table(
        "legal_officers",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("agency_id", BIG_ID, nullable=False),
        sa.Column("handle", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("verified_at", WHEN, nullable=True),
        sa.Column("verified_by", sa.String(length=200), nullable=True),
        sa.Column("revoked_at", WHEN, nullable=True),
        sa.Column("revoked_by", sa.String(length=200), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        _fk("legal_officers", "agency_id", "legal_agencies.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_officers")),
        sa.UniqueConstraint("email", name=op.f("uq_legal_officers_email")),
        sa.UniqueConstraint("handle", name=op.f("uq_legal_officers_handle")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_legal_officers_agency_id"), "legal_officers", ["agency_id"])
    op.create_table(
        "legal_requests",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("agency_id", BIG_ID, nullable=False),
        sa.Column("officer_id", BIG_ID, nullable=False),
        sa.Column("external_reference", sa.String(length=200), nullable=False),
        sa.Column("reference_key", sa.String(length=200), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("jurisdiction", sa.String(length=100), nullable=True),
        sa.Column("received_at", WHEN, nullable=False),
        sa.Column("received_by", sa.String(length=200), nullable=False),
        sa.Column("verified_at", WHEN, nullable=True),
        sa.Column("verified_by", sa.String(length=200), nullable=True),
        sa.Column("started_at", WHEN, nullable=True),
        sa.Column("closed_at", WHEN, nullable=True),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.Column("close_reason", sa.Text(), nullable=True),
        sa.Column("assignee", sa.String(length=200), nullable=True),
        sa.Column("stated_due_at", WHEN, nullable=True),
        sa.Column("verify_due_at", WHEN, nullable=False),
        sa.Column("respond_due_at", WHEN, nullable=True),
        sa.Column("preserve_from", WHEN, nullable=True),
        sa.Column("preserve_until", WHEN, nullable=True),
        sa.Column("renewals", sa.Integer(), nullable=False),
        sa.Column("max_renewals", sa.Integer(), nullable=False),
        sa.Column("next_due_at", WHEN, nullable=True),
        sa.Column("next_due_kind", sa.String(length=20), nullable=True),
        sa.CheckConstraint(
            _in(
                "type",
                "preservation",
                "subpoena",
                "court_order",
                "search_warrant",
                "emergency",
                "foreign",
            ),
            name=op.f("ck_legal_requests_type_known"),
        ),
        sa.CheckConstraint(
            _in(
                "status",
                "received",
                "verified",
                "in_progress",
                "produced",
                "partially_produced",
                "rejected",
                "withdrawn",
                "expired",
            ),
            name=op.f("ck_legal_requests_status_known"),
        ),
        sa.CheckConstraint(
            _in("channel", "portal", "staff"), name=op.f("ck_legal_requests_channel_known")
        ),
        _fk("legal_requests", "agency_id", "legal_agencies.id"),
        _fk("legal_requests", "officer_id", "legal_officers.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_requests")),
        sa.UniqueConstraint(
            "agency_id", "reference_key", name=op.f("uq_legal_requests_agency_id_reference_key")
        ),
        sqlite_autoincrement=True,
    )
    for column in ("status", "agency_id", "officer_id", "assignee", "next_due_at"):
        op.create_index(op.f(f"ix_legal_requests_{column}"), "legal_requests", [column])
    op.create_table(
        "legal_request_accounts",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("request_id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("service", sa.String(length=200), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("subject_id", BIG_ID, nullable=True),
        sa.Column("hold_id", BIG_ID, nullable=True),
        sa.CheckConstraint(
            _in("kind", "account", "email", "phone", "username", "url", "ip_address", "other"),
            name=op.f("ck_legal_request_accounts_kind_known"),
        ),
        sa.CheckConstraint(
            _in("state", "known", "held", "nothing_preserved", "unknown", "to_resolve"),
            name=op.f("ck_legal_request_accounts_state_known"),
        ),
        _fk("legal_request_accounts", "request_id", "legal_requests.id"),
        _fk("legal_request_accounts", "subject_id", "review_subjects.id"),
        _fk("legal_request_accounts", "hold_id", "legal_holds.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_request_accounts")),
        sa.UniqueConstraint(
            "request_id",
            "kind",
            "service",
            "value",
            name=op.f("uq_legal_request_accounts_request_id_kind_service_value"),
        ),
        sqlite_autoincrement=True,
    )
    for column in ("request_id", "hold_id"):
        op.create_index(
            op.f(f"ix_legal_request_accounts_{column}"), "legal_request_accounts", [column]
        )
    op.create_table(
        "legal_request_attachments",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("request_id", BIG_ID, nullable=False),
        sa.Column("ref", sa.String(length=71), nullable=False),
        sa.Column("media_type", sa.String(length=50), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("added_at", WHEN, nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        _fk("legal_request_attachments", "request_id", "legal_requests.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_request_attachments")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_legal_request_attachments_request_id"),
        "legal_request_attachments",
        ["request_id"],
    )
    op.create_table(
        "legal_request_notes",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("request_id", BIG_ID, nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _fk("legal_request_notes", "request_id", "legal_requests.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_request_notes")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_legal_request_notes_request_id"), "legal_request_notes", ["request_id"]
    )
    op.create_table(
        "legal_request_events",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("request_id", BIG_ID, nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.CheckConstraint(
            _in(
                "kind",
                "received",
                "status",
                "assigned",
                "note",
                "hold_placed",
                "hold_renewed",
                "hold_released",
                "renewed",
                "snapshot_requested",
                "flagged",
                "flag_resolved",
                "escalated",
                "paged",
            ),
            name=op.f("ck_legal_request_events_kind_known"),
        ),
        _fk("legal_request_events", "request_id", "legal_requests.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_request_events")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_legal_request_events_request_id"), "legal_request_events", ["request_id"]
    )
    op.create_table(
        "legal_request_flags",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("request_id", BIG_ID, nullable=False),
        sa.Column("account_id", BIG_ID, nullable=True),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("raised_at", WHEN, nullable=False),
        sa.Column("resolved_at", WHEN, nullable=True),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            _in(
                "code",
                "unknown_account",
                "nothing_preserved",
                "no_account_held",
                "identifier_to_resolve",
                "hold_not_renewed",
                "snapshot_failed",
                "page_failed",
                "officer_revoked",
            ),
            name=op.f("ck_legal_request_flags_code_known"),
        ),
        _fk("legal_request_flags", "request_id", "legal_requests.id"),
        _fk("legal_request_flags", "account_id", "legal_request_accounts.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_request_flags")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_legal_request_flags_request_id"), "legal_request_flags", ["request_id"]
    )
    op.create_table(
        "legal_escalations",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("request_id", BIG_ID, nullable=False),
        sa.Column("deadline", sa.String(length=20), nullable=False),
        sa.Column("due_at", WHEN, nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("recorded_at", WHEN, nullable=False),
        sa.Column("paged", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            _in("deadline", "verify", "respond", "stated", "preservation_ends"),
            name=op.f("ck_legal_escalations_deadline_known"),
        ),
        sa.CheckConstraint(
            _in("name", "reminder", "escalation", "overdue"),
            name=op.f("ck_legal_escalations_name_known"),
        ),
        _fk("legal_escalations", "request_id", "legal_requests.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_escalations")),
        sa.UniqueConstraint(
            "request_id",
            "deadline",
            "due_at",
            "level",
            name=op.f("uq_legal_escalations_request_id_deadline_due_at_level"),
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_legal_escalations_request_id"), "legal_escalations", ["request_id"])
    _make_events_append_only()


def _make_events_append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION legal_request_events_refuse_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{APPEND_ONLY}';
            END
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER legal_request_events_no_update_or_delete "
            "BEFORE UPDATE OR DELETE ON legal_request_events "
            "FOR EACH ROW EXECUTE FUNCTION legal_request_events_refuse_change()"
        )
        op.execute(
            "CREATE TRIGGER legal_request_events_no_truncate "
            "BEFORE TRUNCATE ON legal_request_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION legal_request_events_refuse_change()"
        )
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER legal_request_events_no_{event.lower()} "
            f"BEFORE {event} ON legal_request_events "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP TRIGGER IF EXISTS legal_request_events_no_truncate ON legal_request_events"
        )
        op.execute(
            "DROP TRIGGER IF EXISTS legal_request_events_no_update_or_delete "
            "ON legal_request_events"
        )
        op.execute("DROP FUNCTION IF EXISTS legal_request_events_refuse_change()")
    else:
        op.execute("DROP TRIGGER IF EXISTS legal_request_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS legal_request_events_no_delete")
    for table in (
        "legal_escalations",
        "legal_request_flags",
        "legal_request_events",
        "legal_request_notes",
        "legal_request_attachments",
        "legal_request_accounts",
        "legal_requests",
        "legal_officers",
        "legal_agency_domains",
        "legal_agencies",
    ):
        op.drop_table(table)
