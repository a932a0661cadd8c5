"""Evidence preservation: preserved objects and their retention, preservations, legal holds

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

References, ids and dates only: the content is in the encrypted vault, the history of each
object in the chain of custody (0009).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "evidence_objects",
        sa.Column("ref", sa.String(length=71), nullable=False),
        sa.Column("first_preserved_at", WHEN, nullable=False),
        sa.Column("retain_until", WHEN, nullable=False),
        sa.Column("purged_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("ref", name=op.f("pk_evidence_objects")),
    )
    op.create_index(op.f("ix_evidence_objects_retain_until"), "evidence_objects", ["retain_until"])
    op.create_table(
        "evidence_preservations",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("report_id", BIG_ID, nullable=False),
        sa.Column("case_id", BIG_ID, nullable=False),
        sa.Column("subject_id", BIG_ID, nullable=False),
        sa.Column("preserved_at", WHEN, nullable=False),
        sa.Column("retain_until", WHEN, nullable=False),
        sa.Column("reported_bank_entries", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_evidence_preservations_report_id_reports"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_preservations")),
        sa.UniqueConstraint("report_id", name=op.f("uq_evidence_preservations_report_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_evidence_preservations_case_id"), "evidence_preservations", ["case_id"]
    )
    op.create_index(
        op.f("ix_evidence_preservations_subject_id"), "evidence_preservations", ["subject_id"]
    )
    op.create_table(
        "evidence_preserved_objects",
        sa.Column("preservation_id", BIG_ID, nullable=False),
        sa.Column("ref", sa.String(length=71), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("item_id", BIG_ID, nullable=True),
        sa.CheckConstraint(
            "role IN ('media', 'report_xml', 'case_record')",
            name=op.f("ck_evidence_preserved_objects_role_known"),
        ),
        sa.ForeignKeyConstraint(
            ["preservation_id"],
            ["evidence_preservations.id"],
            name=op.f("fk_evidence_preserved_objects_preservation_id_evidence_preservations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["ref"],
            ["evidence_objects.ref"],
            name=op.f("fk_evidence_preserved_objects_ref_evidence_objects"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "preservation_id", "ref", name=op.f("pk_evidence_preserved_objects")
        ),
    )
    op.create_index(
        op.f("ix_evidence_preserved_objects_ref"), "evidence_preserved_objects", ["ref"]
    )
    op.create_table(
        "legal_holds",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("placed_by", sa.String(length=200), nullable=False),
        sa.Column("placed_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("renewals", sa.Integer(), nullable=False),
        sa.Column("max_renewals", sa.Integer(), nullable=False),
        sa.Column("released_at", WHEN, nullable=True),
        sa.Column("released_by", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "kind IN ('preservation_request', 'other')", name=op.f("ck_legal_holds_kind_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_holds")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_legal_holds_expires_at"), "legal_holds", ["expires_at"])
    op.create_table(
        "legal_hold_objects",
        sa.Column("hold_id", BIG_ID, nullable=False),
        sa.Column("ref", sa.String(length=71), nullable=False),
        sa.ForeignKeyConstraint(
            ["hold_id"],
            ["legal_holds.id"],
            name=op.f("fk_legal_hold_objects_hold_id_legal_holds"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["ref"],
            ["evidence_objects.ref"],
            name=op.f("fk_legal_hold_objects_ref_evidence_objects"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("hold_id", "ref", name=op.f("pk_legal_hold_objects")),
    )
    op.create_index(op.f("ix_legal_hold_objects_ref"), "legal_hold_objects", ["ref"])


def downgrade() -> None:
    op.drop_table("legal_hold_objects")
    op.drop_table("legal_holds")
    op.drop_table("evidence_preserved_objects")
    op.drop_table("evidence_preservations")
    op.drop_table("evidence_objects")
