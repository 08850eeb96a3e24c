"""multiplier links for events (issue 12): a partner organisation's link to one event

- `multiplier_links.meeting_id` beside `survey_id` (now nullable), exactly one of them set (a
  check constraint): the same attributes (partner, group, tier, cap, dates, close, secrets);
  for an event, `answers` counts the registrations confirmed through the link.
- `meeting_registrations` learns where a registration came from: `channel` (`invitation` for
  the personal link, `public` for the town's registration page, `walk_in`, `multiplier`),
  and for a link's registration the link and its group and tier. Registrations are named data
  the coordinator sees anyway, so naming the link on them reveals nothing new (unlike an
  anonymous survey answer, which keeps no reference to its link).
- `meeting_self_descriptions.channel`: the "who came" answers by channel, nothing more (still
  no key back to a registration; the staff page suppresses counts below 5).

Revision ID: 0023_event_multiplier_links
Revises: 0022_draft_retention
"""

import sqlalchemy as sa
from alembic import op

revision = "0023_event_multiplier_links"
down_revision = "0022_draft_retention"
branch_labels = None
depends_on = None

REG_CHANNELS = "channel IN ('invitation', 'public', 'walk_in', 'multiplier')"


def upgrade() -> None:
    op.alter_column("multiplier_links", "survey_id", existing_type=sa.Uuid(), nullable=True)
    op.add_column("multiplier_links", sa.Column("meeting_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(op.f("fk_multiplier_links_meeting_id_meetings"), "multiplier_links",
                          "meetings", ["meeting_id"], ["id"], ondelete="CASCADE")
    op.create_index(op.f("ix_multiplier_links_meeting_id"), "multiplier_links", ["meeting_id"])
    op.create_check_constraint(op.f("ck_multiplier_links_one_target"), "multiplier_links",
                               "num_nonnulls(survey_id, meeting_id) = 1")

    op.add_column("meeting_registrations", sa.Column(
        "channel", sa.String(20), server_default="invitation", nullable=False))
    op.execute("UPDATE meeting_registrations SET channel = CASE "
               "WHEN walk_in THEN 'walk_in' WHEN invitation_id IS NULL "
               "AND stakeholder_id IS NULL THEN 'public' ELSE 'invitation' END")
    op.create_check_constraint(op.f("ck_meeting_registrations_channel"),
                               "meeting_registrations", REG_CHANNELS)
    op.add_column("meeting_registrations",
                  sa.Column("multiplier_link_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_meeting_registrations_multiplier_link_id_multiplier_links"),
        "meeting_registrations", "multiplier_links", ["multiplier_link_id"], ["id"],
        ondelete="SET NULL")
    op.create_index(op.f("ix_meeting_registrations_multiplier_link_id"),
                    "meeting_registrations", ["multiplier_link_id"])
    op.add_column("meeting_registrations",
                  sa.Column("group_key", sa.String(100), nullable=True))
    op.add_column("meeting_registrations",
                  sa.Column("reach_tier", sa.SmallInteger(), nullable=True))
    op.create_check_constraint(op.f("ck_meeting_registrations_reach_tier"),
                               "meeting_registrations",
                               "reach_tier IS NULL OR reach_tier BETWEEN 1 AND 3")

    op.add_column("meeting_self_descriptions", sa.Column(
        "channel", sa.String(20), server_default="invitation", nullable=False))
    op.create_check_constraint(op.f("ck_meeting_self_descriptions_channel"),
                               "meeting_self_descriptions", REG_CHANNELS)


def downgrade() -> None:
    op.drop_constraint(op.f("ck_meeting_self_descriptions_channel"),
                       "meeting_self_descriptions", type_="check")
    op.drop_column("meeting_self_descriptions", "channel")
    op.drop_constraint(op.f("ck_meeting_registrations_reach_tier"), "meeting_registrations",
                       type_="check")
    op.drop_column("meeting_registrations", "reach_tier")
    op.drop_column("meeting_registrations", "group_key")
    op.drop_index(op.f("ix_meeting_registrations_multiplier_link_id"),
                  table_name="meeting_registrations")
    op.drop_column("meeting_registrations", "multiplier_link_id")
    op.drop_constraint(op.f("ck_meeting_registrations_channel"), "meeting_registrations",
                       type_="check")
    op.drop_column("meeting_registrations", "channel")
    # Event links cannot exist without the column that names their event.
    op.execute("DELETE FROM multiplier_links WHERE meeting_id IS NOT NULL")
    op.drop_constraint(op.f("ck_multiplier_links_one_target"), "multiplier_links",
                       type_="check")
    op.drop_index(op.f("ix_multiplier_links_meeting_id"), table_name="multiplier_links")
    op.drop_column("multiplier_links", "meeting_id")
    op.alter_column("multiplier_links", "survey_id", existing_type=sa.Uuid(), nullable=False)
