"""languages: six participant languages, Leichte Sprache as `de-x-ls` (issue 12)

The language columns were String(5) (enough for `de`/`en`); the BCP 47 tag of Leichte Sprache,
`de-x-ls`, has seven characters. Widening a varchar is a catalog change in PostgreSQL (no table
rewrite). Stakeholders accept the six codes of services/i18n.LANGUAGES.

Revision ID: 0019_languages
Revises: 0013_staff_accounts
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_languages"
down_revision = "0016_org_legal"
branch_labels = None
depends_on = None

COLUMNS = (("stakeholders", False), ("invitations", False), ("survey_responses", True),
           ("meeting_registrations", False))
LANGUAGES = "'de', 'en', 'tr', 'ar', 'uk', 'de-x-ls'"


def upgrade() -> None:
    for table, nullable in COLUMNS:
        op.alter_column(table, "language", existing_type=sa.String(5), type_=sa.String(12),
                        existing_nullable=nullable)
    op.drop_constraint(op.f("ck_stakeholders_language"), "stakeholders", type_="check")
    op.create_check_constraint(op.f("ck_stakeholders_language"), "stakeholders",
                               f"language IN ({LANGUAGES})")


def downgrade() -> None:
    # The new languages have no place in the old columns: German, the old default, instead.
    for table, _ in COLUMNS:
        op.execute(f"UPDATE {table} SET language = 'de' "
                   "WHERE language IS NOT NULL AND language NOT IN ('de', 'en')")
    op.drop_constraint(op.f("ck_stakeholders_language"), "stakeholders", type_="check")
    op.create_check_constraint(op.f("ck_stakeholders_language"), "stakeholders",
                               "language IN ('de', 'en')")
    for table, nullable in COLUMNS:
        op.alter_column(table, "language", existing_type=sa.String(12), type_=sa.String(5),
                        existing_nullable=nullable)
