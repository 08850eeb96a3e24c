"""stakeholders, campaigns, invitations, outbound mail ledger

Revision ID: 0003_stakeholders
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_stakeholders"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "stakeholders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("group_key", sa.String(100), nullable=False),
        sa.Column("reach_tier", sa.SmallInteger(), nullable=False),
        sa.Column("tags", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"),
                  nullable=False),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("accessibility_needs", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("consent_at", TS, nullable=True),
        sa.Column("consent_method", sa.String(200), nullable=True),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("unsubscribed_at", TS, nullable=True),
        sa.Column("erased_at", TS, nullable=True),
        sa.Column("created_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("reach_tier BETWEEN 1 AND 3", name=op.f("ck_stakeholders_reach_tier")),
        sa.CheckConstraint("kind IN ('person', 'organisation')", name=op.f("ck_stakeholders_kind")),
        sa.CheckConstraint("language IN ('de', 'en')", name=op.f("ck_stakeholders_language")),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], ondelete="CASCADE",
                                name=op.f("fk_stakeholders_organisation_id_organisations")),
        sa.ForeignKeyConstraint(["parent_id"], ["stakeholders.id"], ondelete="SET NULL",
                                name=op.f("fk_stakeholders_parent_id_stakeholders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stakeholders")),
        sa.UniqueConstraint("organisation_id", "email",
                            name=op.f("uq_stakeholders_organisation_id")),
    )
    op.create_index("ix_stakeholders_org_group_tier", "stakeholders",
                    ["organisation_id", "group_key", "reach_tier"])
    op.create_index("ix_stakeholders_tags", "stakeholders", ["tags"], postgresql_using="gin")
    op.create_index(op.f("ix_stakeholders_parent_id"), "stakeholders", ["parent_id"])

    op.create_table(
        "campaigns",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("process_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("audience", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reminders", postgresql.ARRAY(sa.Text()),
                  server_default=sa.text("'{}'::text[]"), nullable=False),
        sa.Column("deadline", TS, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("total", sa.Integer(), server_default="0", nullable=False),
        sa.Column("batches", sa.Integer(), server_default="0", nullable=False),
        sa.Column("started_at", TS, nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("created_by", sa.String(320), nullable=True),
        sa.Column("created_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], ondelete="CASCADE",
                                name=op.f("fk_campaigns_organisation_id_organisations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_index(op.f("ix_campaigns_organisation_id"), "campaigns", ["organisation_id"])
    op.create_index(op.f("ix_campaigns_process_id"), "campaigns", ["process_id"])

    op.create_table(
        "invitations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("stakeholder_id", sa.Uuid(), nullable=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("group_key", sa.String(100), nullable=False),
        sa.Column("reach_tier", sa.SmallInteger(), nullable=False),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("batch_no", sa.Integer(), nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("responded_at", sa.Date(), nullable=True),
        sa.Column("declined_at", TS, nullable=True),
        sa.Column("reminders_sent", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_reminded_at", TS, nullable=True),
        sa.Column("expires_at", TS, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE",
                                name=op.f("fk_invitations_campaign_id_campaigns")),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], ondelete="CASCADE",
                                name=op.f("fk_invitations_organisation_id_organisations")),
        sa.ForeignKeyConstraint(["stakeholder_id"], ["stakeholders.id"], ondelete="SET NULL",
                                name=op.f("fk_invitations_stakeholder_id_stakeholders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitations_token_hash")),
    )
    op.create_index("ix_invitations_campaign_batch", "invitations", ["campaign_id", "batch_no"])
    op.create_index("ix_invitations_campaign_status", "invitations", ["campaign_id", "status"])
    op.create_index(op.f("ix_invitations_organisation_id"), "invitations", ["organisation_id"])
    op.create_index(op.f("ix_invitations_stakeholder_id"), "invitations", ["stakeholder_id"])

    op.create_table(
        "outbound_mails",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=True),
        sa.Column("invitation_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("reminder_no", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("recipient", sa.String(320), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(200), nullable=True),
        sa.Column("planned_at", TS, nullable=True),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("created_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], ondelete="CASCADE",
                                name=op.f("fk_outbound_mails_organisation_id_organisations")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE",
                                name=op.f("fk_outbound_mails_campaign_id_campaigns")),
        sa.ForeignKeyConstraint(["invitation_id"], ["invitations.id"], ondelete="CASCADE",
                                name=op.f("fk_outbound_mails_invitation_id_invitations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_mails")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbound_mails_idempotency_key")),
        # Room on each page so the per-mail status UPDATE stays heap-only (HOT).
        postgresql_with={"fillfactor": "80"},
    )
    op.create_index("ix_outbound_mails_campaign_id", "outbound_mails", ["campaign_id"])
    op.create_index(op.f("ix_outbound_mails_organisation_id"), "outbound_mails",
                    ["organisation_id"])
    op.create_index(op.f("ix_outbound_mails_invitation_id"), "outbound_mails", ["invitation_id"])


def downgrade() -> None:
    op.drop_table("outbound_mails")
    op.drop_table("invitations")
    op.drop_table("campaigns")
    op.drop_table("stakeholders")
