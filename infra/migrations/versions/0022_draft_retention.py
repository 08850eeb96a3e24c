"""draft retention: saved, unsubmitted answers expire (DSGVO Art. 5(1)(e))

- `survey_drafts.link_id`: the multiplier link a draft was saved through (NULL for an
  invitation's draft), so the daily sweep (services/surveys/retention.py) deletes a closed
  link's drafts. A link's draft key is a browser's random value: nothing else on the row says
  which link, or whether a link at all. Drafts saved before this migration cannot be told
  apart (the key is only a hash) and keep NULL: they go with their survey's end or after the
  idle limit, like an invitation's.
- Indexes for the sweep: `saved_on` (not saved for N days) and a partial one on `link_id`.

Revision ID: 0022_draft_retention
Revises: 0021_assisted_entry
"""

import sqlalchemy as sa
from alembic import op

revision = "0022_draft_retention"
down_revision = "0021_assisted_entry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("survey_drafts", sa.Column("link_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(op.f("fk_survey_drafts_link_id_multiplier_links"), "survey_drafts",
                          "multiplier_links", ["link_id"], ["id"], ondelete="CASCADE")
    op.create_index("ix_survey_drafts_link_id", "survey_drafts", ["link_id"],
                    postgresql_where=sa.text("link_id IS NOT NULL"))
    op.create_index(op.f("ix_survey_drafts_saved_on"), "survey_drafts", ["saved_on"])


def downgrade() -> None:
    op.drop_index(op.f("ix_survey_drafts_saved_on"), table_name="survey_drafts")
    op.drop_index("ix_survey_drafts_link_id", table_name="survey_drafts")
    op.drop_constraint(op.f("fk_survey_drafts_link_id_multiplier_links"), "survey_drafts",
                       type_="foreignkey")
    op.drop_column("survey_drafts", "link_id")
