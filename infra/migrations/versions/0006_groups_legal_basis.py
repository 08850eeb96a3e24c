"""organisation groups; legal basis per stakeholder; an organisation's public-task basis

Revision ID: 0005_groups_legal_basis
Revises: 0004_surveys
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_groups_legal_basis"
down_revision = "0005_anon_answers"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "organisation_groups",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("label", sa.String(300), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("created_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("source IN ('template', 'manual', 'import')",
                           name=op.f("ck_organisation_groups_source")),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], ondelete="CASCADE",
                                name=op.f("fk_organisation_groups_organisation_id_organisations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation_groups")),
        sa.UniqueConstraint("organisation_id", "key",
                            name=op.f("uq_organisation_groups_organisation_id")),
    )
    # Existing data keeps working: the groups of the processes already started and the groups
    # stakeholders already carry become the organisation's known groups.
    op.execute("""
        INSERT INTO organisation_groups (organisation_id, key, label, source)
        SELECT DISTINCT ON (p.organisation_id, g->>'key') p.organisation_id, g->>'key',
               g->>'title', 'template'
        FROM processes p, jsonb_array_elements(p.template_snapshot->'stakeholder_groups') g
        ON CONFLICT DO NOTHING
    """)
    op.execute("""
        INSERT INTO organisation_groups (organisation_id, key, label, source)
        SELECT DISTINCT organisation_id, group_key, group_key, 'import' FROM stakeholders
        ON CONFLICT DO NOTHING
    """)

    op.add_column("organisations", sa.Column("public_task_basis", sa.Text(), nullable=True))
    op.add_column("stakeholders", sa.Column("legal_basis", sa.String(20), nullable=True))
    op.create_check_constraint(
        op.f("ck_stakeholders_legal_basis"), "stakeholders",
        "legal_basis IS NULL OR legal_basis = 'public_task' "
        "OR (legal_basis = 'consent' AND consent_at IS NOT NULL)")
    # A recorded consent date is a consent; everyone else has no basis until one is recorded
    # and gets no mail.
    op.execute("UPDATE stakeholders SET legal_basis = 'consent' WHERE consent_at IS NOT NULL")


def downgrade() -> None:
    op.drop_constraint(op.f("ck_stakeholders_legal_basis"), "stakeholders", type_="check")
    op.drop_column("stakeholders", "legal_basis")
    op.drop_column("organisations", "public_task_basis")
    op.drop_table("organisation_groups")
