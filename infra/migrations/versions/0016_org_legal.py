"""organisation_legal: Impressum, privacy notice and contact per organisation

Revision ID: 0016_org_legal
Revises: 0013_staff_accounts
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_org_legal"
down_revision = "0013_staff_accounts"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "organisation_legal",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("responsible", sa.Text(), nullable=False),
        sa.Column("represented_by", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("phone", sa.String(50), nullable=False, server_default=""),
        sa.Column("imprint_extra", sa.Text(), nullable=False, server_default=""),
        sa.Column("dpo_name", sa.String(200), nullable=False),
        sa.Column("dpo_email", sa.String(320), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False, server_default=""),
        sa.Column("legal_basis", sa.Text(), nullable=False, server_default=""),
        sa.Column("retention", sa.Text(), nullable=False, server_default=""),
        sa.Column("supervisory_authority", sa.Text(), nullable=False, server_default=""),
        sa.Column("contact_note", sa.Text(), nullable=False, server_default=""),
        sa.Column("updated_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_by", sa.String(320), nullable=False, server_default=""),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], ondelete="CASCADE",
                                name="fk_organisation_legal_organisation_id_organisations"),
        sa.PrimaryKeyConstraint("organisation_id", name="pk_organisation_legal"),
    )


def downgrade() -> None:
    op.drop_table("organisation_legal")
