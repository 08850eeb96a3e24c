"""staff accounts: one-time links (invitation, password reset) stored as hashes

Revision ID: 0013_staff_accounts
Revises: 0008_resolution
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_staff_accounts"
down_revision = "0008_resolution"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "staff_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_staff_tokens_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_staff_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_staff_tokens_token_hash"),
    )
    op.create_index("ix_staff_tokens_user_id", "staff_tokens", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_staff_tokens_user_id", table_name="staff_tokens")
    op.drop_table("staff_tokens")
