"""webhook subscriptions, deliveries and attempts (issue 10, Standard Webhooks)

Revision ID: 0009_webhooks
Revises: 0005_groups_legal_basis
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009_webhooks"
down_revision = "0005_boundary"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"),
                     nullable=False)


def upgrade() -> None:
    op.create_table(
        "webhook_subscriptions",
        _id(),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("types", postgresql.ARRAY(sa.String(100)), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("secret_enc", sa.Text(), nullable=False),
        sa.Column("previous_secret_enc", sa.Text(), nullable=True),
        sa.Column("previous_expires_at", TS, nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("disabled_reason", sa.String(200), nullable=True),
        sa.Column("start_seq", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(320), nullable=True),
        sa.Column("created_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], ondelete="CASCADE",
                                name=op.f("fk_webhook_subscriptions_organisation_id_organisations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
    )
    op.create_index(op.f("ix_webhook_subscriptions_organisation_id"), "webhook_subscriptions",
                    ["organisation_id"])
    op.create_table(
        "webhook_deliveries",
        _id(),
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("event_seq", sa.BigInteger(), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("last_attempt_at", TS, nullable=True),
        sa.Column("delivered_at", TS, nullable=True),
        sa.Column("plan_token", sa.String(200), nullable=True),
        sa.Column("redeliveries", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'failed', 'gone', 'skipped')",
                           name=op.f("ck_webhook_deliveries_status")),
        sa.ForeignKeyConstraint(["subscription_id"], ["webhook_subscriptions.id"],
                                ondelete="CASCADE",
                                name=op.f("fk_webhook_deliveries_subscription_id_webhook_subscriptions")),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], ondelete="CASCADE",
                                name=op.f("fk_webhook_deliveries_organisation_id_organisations")),
        sa.ForeignKeyConstraint(["event_seq"], ["domain_events.seq"], ondelete="CASCADE",
                                name=op.f("fk_webhook_deliveries_event_seq_domain_events")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint("subscription_id", "event_seq",
                            name=op.f("uq_webhook_deliveries_subscription_id")),
    )
    op.create_index(op.f("ix_webhook_deliveries_organisation_id"), "webhook_deliveries",
                    ["organisation_id"])
    op.create_index(op.f("ix_webhook_deliveries_event_seq"), "webhook_deliveries",
                    ["event_seq"])
    op.create_table(
        "webhook_attempts",
        _id(),
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("attempt_no", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(500), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("attempted_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["delivery_id"], ["webhook_deliveries.id"], ondelete="CASCADE",
                                name=op.f("fk_webhook_attempts_delivery_id_webhook_deliveries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
        sa.UniqueConstraint("delivery_id", "attempt_no",
                            name=op.f("uq_webhook_attempts_delivery_id")),
    )
    op.create_index(op.f("ix_webhook_attempts_delivery_id"), "webhook_attempts",
                    ["delivery_id"])


def downgrade() -> None:
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_subscriptions")
