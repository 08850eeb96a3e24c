"""processes: phases, checklist items, approvals, votes, transitions, notifications

Revision ID: 0002_processes
Revises: 0001_foundation
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0002_processes"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

JSONB = postgresql.JSONB(astext_type=sa.Text())
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "processes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("template_key", sa.String(length=100), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("current_phase", sa.String(length=100), nullable=True),
        sa.Column("template_snapshot", JSONB, nullable=False),
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=True),
        sa.Column("state_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.Column("completed_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_processes_organisation_id_organisations"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processes")),
        sa.UniqueConstraint("workflow_id", name=op.f("uq_processes_workflow_id")),
    )
    op.create_index(op.f("ix_processes_organisation_id"), "processes", ["organisation_id"])

    op.create_table(
        "process_phases",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("process_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("planned_start", sa.Date(), nullable=False),
        sa.Column("planned_end", sa.Date(), nullable=False),
        sa.Column("actual_start", TS, nullable=True),
        sa.Column("actual_end", TS, nullable=True),
        sa.Column("gate", JSONB, nullable=True),
        sa.Column("skip_reason", sa.Text(), nullable=True),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["process_id"], ["processes.id"],
                                name=op.f("fk_process_phases_process_id_processes"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_phases")),
        sa.UniqueConstraint("process_id", "key", name=op.f("uq_process_phases_process_id")),
    )
    op.create_index(op.f("ix_process_phases_process_id"), "process_phases", ["process_id"])

    op.create_table(
        "process_checklist_items",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("process_id", sa.Uuid(), nullable=False),
        sa.Column("phase_key", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("done_at", TS, nullable=True),
        sa.Column("done_by", sa.String(length=320), nullable=True),
        sa.ForeignKeyConstraint(["process_id"], ["processes.id"],
                                name=op.f("fk_process_checklist_items_process_id_processes"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_checklist_items")),
        sa.UniqueConstraint("process_id", "phase_key", "key",
                            name=op.f("uq_process_checklist_items_process_id")),
    )
    op.create_index(op.f("ix_process_checklist_items_process_id"), "process_checklist_items",
                    ["process_id"])

    op.create_table(
        "process_approvals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("process_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("phase_key", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("rule", sa.String(length=20), nullable=False),
        sa.Column("quorum", sa.Integer(), nullable=True),
        sa.Column("voters", JSONB, nullable=False),
        sa.Column("deadline", TS, nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reasons", JSONB, nullable=False),
        sa.Column("escalated_at", TS, nullable=True),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("created_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["process_id"], ["processes.id"],
                                name=op.f("fk_process_approvals_process_id_processes"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_process_approvals_organisation_id_organisations"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_approvals")),
    )
    op.create_index(op.f("ix_process_approvals_process_id"), "process_approvals", ["process_id"])
    op.create_index(op.f("ix_process_approvals_organisation_id"), "process_approvals",
                    ["organisation_id"])

    op.create_table(
        "process_approval_votes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("approval_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("decided_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["approval_id"], ["process_approvals.id"],
                                name=op.f("fk_process_approval_votes_approval_id_process_approvals"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_approval_votes")),
        sa.UniqueConstraint("approval_id", "user_id",
                            name=op.f("uq_process_approval_votes_approval_id")),
    )
    op.create_index(op.f("ix_process_approval_votes_approval_id"), "process_approval_votes",
                    ["approval_id"])

    op.create_table(
        "process_transitions",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("process_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("phase_key", sa.String(length=100), nullable=True),
        sa.Column("from_phase", sa.String(length=100), nullable=True),
        sa.Column("to_phase", sa.String(length=100), nullable=True),
        sa.Column("actor", sa.String(length=320), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("data", JSONB, nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("recorded_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["process_id"], ["processes.id"],
                                name=op.f("fk_process_transitions_process_id_processes"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_process_transitions")),
        sa.UniqueConstraint("process_id", "key", name=op.f("uq_process_transitions_process_id")),
    )
    op.create_index(op.f("ix_process_transitions_process_id"), "process_transitions",
                    ["process_id"])

    op.create_table(
        "process_notifications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=300), nullable=False),
        sa.Column("process_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("scheduled_for", TS, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("created_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["process_id"], ["processes.id"],
                                name=op.f("fk_process_notifications_process_id_processes"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_notifications")),
        sa.UniqueConstraint("idempotency_key",
                            name=op.f("uq_process_notifications_idempotency_key")),
    )
    op.create_index(op.f("ix_process_notifications_process_id"), "process_notifications",
                    ["process_id"])


def downgrade() -> None:
    op.drop_table("process_notifications")
    op.drop_table("process_transitions")
    op.drop_table("process_approval_votes")
    op.drop_table("process_approvals")
    op.drop_table("process_checklist_items")
    op.drop_table("process_phases")
    op.drop_table("processes")
