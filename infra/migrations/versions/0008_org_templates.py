"""templates an organisation uploads; survey references in process snapshots name their survey

Revision ID: 0007_org_templates
Revises: 0005_groups_legal_basis
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007_org_templates"
down_revision = "0005_sessions"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)

# The alias table that services/surveys/templates.py kept until this revision: the survey keys
# the shipped process templates used and the survey template each started from. Snapshots of
# running processes get the `survey` field the templates now carry, so surveys can still be
# created from them; afterwards nothing needs the table.
OLD_ALIASES = {
    "bedarfe-und-wuensche": "weiterstadt-bedarfe-und-wuensche",
    "beteiligung-1-umfrage": "weiterstadt-beteiligung-1",
    "beteiligung-2-umfrage": "weiterstadt-beteiligung-2",
    "partnerbefragung": "vielfaltsbuendnis-partnerbefragung",
    "selbstcheck": "weltoffene-kommune-selbstcheck",
    "integrationsbegriff": "bergkamen-interviewleitfaden",
    "feedback-tag-1": "vielfaltsmanager-feedback",
    "feedback-tag-2": "vielfaltsmanager-feedback",
}


def upgrade() -> None:
    op.create_table(
        "org_templates",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("key", sa.String(63), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("source_yaml", sa.Text(), nullable=False),
        sa.Column("parsed", postgresql.JSONB(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("derived_from", sa.String(63), nullable=True),
        sa.Column("created_by", sa.String(320), nullable=True),
        sa.Column("created_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("kind IN ('process', 'survey')", name=op.f("ck_org_templates_kind")),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], ondelete="CASCADE",
                                name=op.f("fk_org_templates_organisation_id_organisations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_templates")),
    )
    op.create_index("uq_org_templates_owner_key_version", "org_templates",
                    ["organisation_id", "kind", "key", "version"], unique=True,
                    postgresql_where=sa.text("organisation_id IS NOT NULL"))
    op.create_index("uq_org_templates_shared_key_version", "org_templates",
                    ["kind", "key", "version"], unique=True,
                    postgresql_where=sa.text("organisation_id IS NULL"))

    values = ", ".join(f"('{a}', '{t}')" for a, t in OLD_ALIASES.items())
    op.execute(f"""
        UPDATE processes p SET template_snapshot = jsonb_set(p.template_snapshot, '{{surveys}}', (
            SELECT jsonb_agg(CASE WHEN r ? 'survey' THEN r
                             ELSE r || jsonb_build_object('survey', COALESCE(m.target, r->>'key'))
                             END ORDER BY e.ord)
            FROM jsonb_array_elements(p.template_snapshot->'surveys') WITH ORDINALITY AS e(r, ord)
            LEFT JOIN (VALUES {values}) AS m(alias, target) ON m.alias = r->>'key'))
        WHERE jsonb_typeof(p.template_snapshot->'surveys') = 'array'
          AND jsonb_array_length(p.template_snapshot->'surveys') > 0
    """)


def downgrade() -> None:
    op.drop_index("uq_org_templates_shared_key_version", table_name="org_templates")
    op.drop_index("uq_org_templates_owner_key_version", table_name="org_templates")
    op.drop_table("org_templates")
