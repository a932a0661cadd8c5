"""Legal productions: packages built for a request, their members and their downloads

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04

A production is a sealed zip in the evidence vault (``package_ref``) built for one legal request
(0011): its members say what was produced (vault evidence or the platform's export), and each
download by an officer or staff is one row (with the sequence number of its custody entry).
Rows are never deleted: the foreign keys RESTRICT.

The request history gains the event kinds ``production_built``, ``production_delivered`` and
``production_download``, and flags the code ``export_failed``: their CHECK constraints are
replaced. PostgreSQL drops and adds the constraint; SQLite cannot alter a CHECK, so the table is
rebuilt the way SQLite documents (a new table from the stored definition with only the list
changed, rows copied, the old table dropped, the new one renamed, its index and the append-only
triggers of 0011 created again). A downgrade is refused while rows use the new values: the
history is append-only and is never rewritten to fit an older schema.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


EVENT_KINDS = (
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
)
NEW_EVENT_KINDS = ("production_built", "production_delivered", "production_download")
FLAG_CODES = (
    "unknown_account",
    "nothing_preserved",
    "no_account_held",
    "identifier_to_resolve",
    "hold_not_renewed",
    "snapshot_failed",
    "page_failed",
    "officer_revoked",
)
NEW_FLAG_CODES = ("export_failed",)
APPEND_ONLY = "legal_request_events is append-only"
# (table, column, constraint name, values before, values added, append-only)
CHECKS = (
    ("legal_request_events", "kind", "kind_known", EVENT_KINDS, NEW_EVENT_KINDS, True),
    ("legal_request_flags", "code", "code_known", FLAG_CODES, NEW_FLAG_CODES, False),
)


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def _sqlite_append_only_triggers() -> None:
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER legal_request_events_no_{event.lower()} "
            f"BEFORE {event} ON legal_request_events "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
        )


def _replace_check(
    table: str, column: str, name: str, before: Sequence[str], after: Sequence[str], *,
    append_only: bool,
) -> None:  # fmt: skip
    bind = op.get_bind()
    constraint = f"ck_{table}_{name}"
    if bind.dialect.name == "postgresql":
        op.drop_constraint(op.f(constraint), table, type_="check")
        op.create_check_constraint(op.f(constraint), table, _in(column, after))
        return
    stored = bind.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
        {"name": table},
    ).scalar_one()
    old_list, new_list = _in(column, before), _in(column, after)
    # A table renamed by SQLite (as this rebuild does) has its name quoted in the stored SQL.
    head = next(
        (
            h
            for h in (f"CREATE TABLE {table} (", f'CREATE TABLE "{table}" (')
            if stored.startswith(h)
        ),
        None,
    )
    if stored.count(old_list) != 1 or head is None:
        raise RuntimeError(f"{table} is not as migration 0011 created it; not rebuilding it")
    rebuilt = stored.replace(old_list, new_list).replace(head, f"CREATE TABLE {table}_0016 (", 1)
    op.execute(rebuilt)
    op.execute(f"INSERT INTO {table}_0016 SELECT * FROM {table}")  # noqa: S608  (fixed names)
    op.execute(f"DROP TABLE {table}")  # drops its index and triggers; fires no trigger
    op.execute(f"ALTER TABLE {table}_0016 RENAME TO {table}")
    op.create_index(op.f(f"ix_{table}_request_id"), table, ["request_id"])
    if append_only:
        _sqlite_append_only_triggers()


def _refuse_if_used(table: str, column: str, added: Sequence[str]) -> None:
    used = (
        op.get_bind()
        .execute(
            sa.text(f"SELECT count(*) FROM {table} WHERE {_in(column, added)}")  # noqa: S608
        )
        .scalar_one()
    )
    if used:
        raise RuntimeError(
            f"{used} row(s) of {table} use {column} values added by 0016; the history is not "
            "rewritten, so 0016 cannot be downgraded"
        )


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
        "legal_productions",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("request_id", BIG_ID, nullable=False),
        sa.Column("agency_id", BIG_ID, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("package_ref", sa.String(length=71), nullable=False),
        sa.Column("manifest_sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("vault_members", sa.Integer(), nullable=False),
        sa.Column("platform_members", sa.Integer(), nullable=False),
        sa.Column("export", sa.String(length=20), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("built_at", WHEN, nullable=False),
        sa.Column("built_by", sa.String(length=200), nullable=False),
        sa.Column("delivered_at", WHEN, nullable=True),
        sa.Column("delivered_by", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "status IN ('built', 'delivered')", name=op.f("ck_legal_productions_status_known")
        ),
        sa.CheckConstraint(
            "export IN ('not_configured', 'exported', 'failed')",
            name=op.f("ck_legal_productions_export_known"),
        ),
        _fk("legal_productions", "request_id", "legal_requests.id"),
        _fk("legal_productions", "agency_id", "legal_agencies.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_productions")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_legal_productions_request_id"), "legal_productions", ["request_id"])
    op.create_index(op.f("ix_legal_productions_agency_id"), "legal_productions", ["agency_id"])
    op.create_table(
        "legal_production_members",
        sa.Column("production_id", BIG_ID, nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("ref", sa.String(length=71), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("account_id", BIG_ID, nullable=True),
        sa.Column("report_id", BIG_ID, nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "source IN ('vault', 'platform')",
            name=op.f("ck_legal_production_members_source_known"),
        ),
        _fk("legal_production_members", "production_id", "legal_productions.id"),
        _fk("legal_production_members", "account_id", "legal_request_accounts.id"),
        sa.PrimaryKeyConstraint("production_id", "path", name=op.f("pk_legal_production_members")),
    )
    op.create_index(op.f("ix_legal_production_members_ref"), "legal_production_members", ["ref"])
    op.create_table(
        "legal_production_downloads",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("production_id", BIG_ID, nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("agency_id", BIG_ID, nullable=True),
        sa.Column("officer_id", BIG_ID, nullable=True),
        sa.Column("custody_seq", sa.BigInteger(), nullable=False),
        _fk("legal_production_downloads", "production_id", "legal_productions.id"),
        _fk("legal_production_downloads", "agency_id", "legal_agencies.id"),
        _fk("legal_production_downloads", "officer_id", "legal_officers.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_production_downloads")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_legal_production_downloads_production_id"),
        "legal_production_downloads",
        ["production_id"],
    )
    for table, column, name, before, added, append_only in CHECKS:
        _replace_check(table, column, name, before, (*before, *added), append_only=append_only)


def downgrade() -> None:
    for table, column, name, before, added, append_only in CHECKS:
        _refuse_if_used(table, column, added)
        _replace_check(table, column, name, (*before, *added), before, append_only=append_only)
    op.drop_index(op.f("ix_legal_production_downloads_production_id"), "legal_production_downloads")
    op.drop_table("legal_production_downloads")
    op.drop_index(op.f("ix_legal_production_members_ref"), "legal_production_members")
    op.drop_table("legal_production_members")
    op.drop_index(op.f("ix_legal_productions_agency_id"), "legal_productions")
    op.drop_index(op.f("ix_legal_productions_request_id"), "legal_productions")
    op.drop_table("legal_productions")
