"""anonymous responses keep no language

Issue 8: with few speakers of a language, the language on an anonymous response identifies its
participant. DESIGN.md section 4 allows group and tier only, so the column becomes nullable,
the language of every stored anonymous response is erased, and the code writes it for
identified surveys only.

Revision ID: 0005_anon_answers
Revises: 0004_surveys
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_anon_answers"
down_revision = "0004_surveys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("survey_responses", "language", existing_type=sa.String(5),
                    nullable=True)
    op.execute(
        "UPDATE survey_responses r SET language = NULL FROM surveys s "
        "WHERE s.id = r.survey_id AND s.anonymity = 'anonymous' AND r.language IS NOT NULL"
    )


def downgrade() -> None:
    # The erased languages cannot come back; 'de' (the old default) keeps the column valid.
    op.execute("UPDATE survey_responses SET language = 'de' WHERE language IS NULL")
    op.alter_column("survey_responses", "language", existing_type=sa.String(5),
                    nullable=False)
