"""multiplier links: a partner organisation's link to one survey (issue 12)

Anyone with the link answers anonymously; the answer is a plain survey response with channel
`multiplier` and the link's group and tier (no column on the response names the link). The
link keeps its own answer counter, raised in the statement that stores the response and gated
on the cap. Both secrets are kept as SHA-256 hashes only.

Revision ID: 0020_multiplier_links
Revises: 0019_languages
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_multiplier_links"
down_revision = "0019_languages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "multiplier_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("partner_id", sa.Uuid(), nullable=True),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("group_key", sa.String(100), nullable=False),
        sa.Column("reach_tier", sa.SmallInteger(), nullable=False),
        sa.Column("cap", sa.Integer(), nullable=True),
        sa.Column("answers", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("results_hash", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(320), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.CheckConstraint("reach_tier BETWEEN 1 AND 3",
                           name=op.f("ck_multiplier_links_reach_tier")),
        sa.CheckConstraint("cap IS NULL OR cap > 0", name=op.f("ck_multiplier_links_cap")),
        sa.CheckConstraint("cap IS NULL OR answers <= cap",
                           name=op.f("ck_multiplier_links_answers_cap")),
        sa.CheckConstraint("closes_at IS NULL OR opens_at IS NULL OR closes_at > opens_at",
                           name=op.f("ck_multiplier_links_dates")),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], ondelete="CASCADE",
                                name=op.f("fk_multiplier_links_organisation_id_organisations")),
        sa.ForeignKeyConstraint(["survey_id"], ["surveys.id"], ondelete="CASCADE",
                                name=op.f("fk_multiplier_links_survey_id_surveys")),
        sa.ForeignKeyConstraint(["partner_id"], ["stakeholders.id"], ondelete="SET NULL",
                                name=op.f("fk_multiplier_links_partner_id_stakeholders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_multiplier_links")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_multiplier_links_secret_hash")),
        sa.UniqueConstraint("results_hash", name=op.f("uq_multiplier_links_results_hash")),
    )
    op.create_index(op.f("ix_multiplier_links_organisation_id"), "multiplier_links",
                    ["organisation_id"])
    op.create_index(op.f("ix_multiplier_links_survey_id"), "multiplier_links", ["survey_id"])


def downgrade() -> None:
    op.drop_table("multiplier_links")
