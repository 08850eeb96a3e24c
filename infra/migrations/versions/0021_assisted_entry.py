"""assisted entry: interviews and paper forms (issue 12)

- The response channel `assisted` splits into `interview` and `paper` (existing `assisted`
  rows were entered by staff in conversation: they become `interview`).
- The staff role `interviewer`: the role column is a non-native enum without a database
  constraint (0001_foundation: VARCHAR(20)), so the new value needs no DDL; the Python enum
  (services/models/organisation.py) is where roles are checked.
- `survey_entry_counts`: entries per staff member, survey and channel. For an anonymous
  survey this count is all that ties an answer to the person who keyed it in.
- `survey_response_entries`: identified surveys only, which staff member entered which
  response (a table of its own, like `survey_response_links`, so the anonymous tables stay
  free of such a column).
- `survey_form_numbers`: the numbers of anonymous paper forms issued per survey; `entered_at`
  is set once, when the form is keyed in.
- `invitations.paper_code`: the short code printed on a personal paper form, allocated on
  demand, unique.

Revision ID: 0021_assisted_entry
Revises: 0020_multiplier_links
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_assisted_entry"
down_revision = "0020_multiplier_links"
branch_labels = None
depends_on = None

NEW = "channel IN ('invitation', 'multiplier', 'interview', 'paper')"
OLD = "channel IN ('invitation', 'multiplier', 'assisted')"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_survey_responses_channel"), "survey_responses", type_="check")
    op.execute("UPDATE survey_responses SET channel = 'interview' WHERE channel = 'assisted'")
    op.create_check_constraint(op.f("ck_survey_responses_channel"), "survey_responses", NEW)

    op.create_table(
        "survey_entry_counts",
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("entries", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint("channel IN ('interview', 'paper')",
                           name=op.f("ck_survey_entry_counts_channel")),
        sa.ForeignKeyConstraint(["survey_id"], ["surveys.id"], ondelete="CASCADE",
                                name=op.f("fk_survey_entry_counts_survey_id_surveys")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_survey_entry_counts_user_id_users")),
        sa.PrimaryKeyConstraint("survey_id", "user_id", "channel",
                                name=op.f("pk_survey_entry_counts")),
    )
    op.create_table(
        "survey_response_entries",
        sa.Column("response_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["response_id"], ["survey_responses.id"], ondelete="CASCADE",
            name=op.f("fk_survey_response_entries_response_id_survey_responses")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_survey_response_entries_user_id_users")),
        sa.PrimaryKeyConstraint("response_id", name=op.f("pk_survey_response_entries")),
    )
    op.create_table(
        "survey_form_numbers",
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("number > 0", name=op.f("ck_survey_form_numbers_number")),
        sa.ForeignKeyConstraint(["survey_id"], ["surveys.id"], ondelete="CASCADE",
                                name=op.f("fk_survey_form_numbers_survey_id_surveys")),
        sa.PrimaryKeyConstraint("survey_id", "number", name=op.f("pk_survey_form_numbers")),
    )
    op.add_column("invitations", sa.Column("paper_code", sa.String(8), nullable=True))
    op.create_unique_constraint(op.f("uq_invitations_paper_code"), "invitations",
                                ["paper_code"])


def downgrade() -> None:
    op.drop_constraint(op.f("uq_invitations_paper_code"), "invitations", type_="unique")
    op.drop_column("invitations", "paper_code")
    op.drop_table("survey_form_numbers")
    op.drop_table("survey_response_entries")
    op.drop_table("survey_entry_counts")
    op.drop_constraint(op.f("ck_survey_responses_channel"), "survey_responses", type_="check")
    # Both staff channels were one before.
    op.execute("UPDATE survey_responses SET channel = 'assisted' "
               "WHERE channel IN ('interview', 'paper')")
    op.create_check_constraint(op.f("ck_survey_responses_channel"), "survey_responses", OLD)
    # The old code cannot read the new role, and any other role would grant more than it
    # did: interviewers lose their membership.
    op.execute("DELETE FROM memberships WHERE role = 'interviewer'")
