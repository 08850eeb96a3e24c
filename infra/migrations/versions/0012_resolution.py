"""council resolution: drafts, immutable versions with the clerk's steps, rendered files

Revision ID: 0008_resolution
Revises: 0005_groups_legal_basis
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008_resolution"
down_revision = '0010_meetings'
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
UUID_DEFAULT = sa.text("gen_random_uuid()")


def upgrade() -> None:
    op.create_table(
        "resolution_drafts",
        sa.Column("id", sa.Uuid(), server_default=UUID_DEFAULT, nullable=False),
        sa.Column("process_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("sections", postgresql.JSONB(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("rejection", postgresql.JSONB(), nullable=True),
        sa.Column("updated_by", sa.String(320), nullable=True),
        sa.Column("updated_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.Column("created_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["process_id"], ["processes.id"], ondelete="CASCADE",
                                name=op.f("fk_resolution_drafts_process_id_processes")),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], ondelete="CASCADE",
                                name=op.f("fk_resolution_drafts_organisation_id_organisations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resolution_drafts")),
        sa.UniqueConstraint("process_id", name=op.f("uq_resolution_drafts_process_id")),
    )
    op.create_index(op.f("ix_resolution_drafts_organisation_id"), "resolution_drafts",
                    ["organisation_id"])
    op.create_table(
        "resolution_versions",
        sa.Column("id", sa.Uuid(), server_default=UUID_DEFAULT, nullable=False),
        sa.Column("process_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("based_on", sa.Uuid(), nullable=True),
        sa.Column("draft_revision", sa.Integer(), nullable=False),
        sa.Column("content", postgresql.JSONB(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("author", sa.String(320), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("modified_at", TS, nullable=False),
        sa.Column("approval_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("submitted_at", TS, nullable=True),
        sa.Column("submitted_by", sa.String(320), nullable=True),
        sa.Column("received_at", TS, nullable=True),
        sa.Column("body", sa.String(300), nullable=True),
        sa.Column("meeting_date", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("minutes_ref", sa.String(300), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("amendments", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["process_id"], ["processes.id"], ondelete="CASCADE",
                                name=op.f("fk_resolution_versions_process_id_processes")),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], ondelete="CASCADE",
            name=op.f("fk_resolution_versions_organisation_id_organisations")),
        sa.ForeignKeyConstraint(["based_on"], ["resolution_versions.id"],
                                name=op.f("fk_resolution_versions_based_on_resolution_versions")),
        sa.ForeignKeyConstraint(
            ["approval_id"], ["process_approvals.id"], ondelete="SET NULL",
            name=op.f("fk_resolution_versions_approval_id_process_approvals")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resolution_versions")),
        sa.UniqueConstraint("process_id", "number",
                            name=op.f("uq_resolution_versions_process_id")),
    )
    op.create_index(op.f("ix_resolution_versions_process_id"), "resolution_versions",
                    ["process_id"])
    op.create_index(op.f("ix_resolution_versions_organisation_id"), "resolution_versions",
                    ["organisation_id"])
    op.create_table(
        "resolution_files",
        sa.Column("id", sa.Uuid(), server_default=UUID_DEFAULT, nullable=False),
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("file_name", sa.String(200), nullable=False),
        sa.Column("mime_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha512", sa.String(128), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["resolution_versions.id"], ondelete="CASCADE",
                                name=op.f("fk_resolution_files_version_id_resolution_versions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resolution_files")),
        sa.UniqueConstraint("version_id", "kind", name=op.f("uq_resolution_files_version_id")),
    )
    op.create_index(op.f("ix_resolution_files_version_id"), "resolution_files", ["version_id"])


def downgrade() -> None:
    op.drop_table("resolution_files")
    op.drop_table("resolution_versions")
    op.drop_table("resolution_drafts")
