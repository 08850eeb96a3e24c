"""surveys, questions, anonymous responses and answers, identified links, drafts

Revision ID: 0004_surveys
Revises: 0002_processes, 0003_stakeholders (merges both branches)
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004_surveys"
down_revision = ("0002_processes", "0003_stakeholders")
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
JSONB = postgresql.JSONB(astext_type=sa.Text())
RANDOM_UUID = sa.text("gen_random_uuid()")


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("process_id", sa.Uuid(), nullable=False),
        sa.Column("phase_key", sa.String(100), nullable=True),
        sa.Column("template_key", sa.String(100), nullable=True),
        sa.Column("title", JSONB, nullable=False),
        sa.Column("introduction", JSONB, nullable=False),
        sa.Column("blocks", JSONB, nullable=False),
        sa.Column("anonymity", sa.String(20), nullable=False),
        sa.Column("allow_edits", sa.Boolean(), nullable=False),
        sa.Column("opens_at", TS, nullable=True),
        sa.Column("closes_at", TS, nullable=True),
        sa.Column("lineage_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(320), nullable=True),
        sa.Column("created_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("anonymity IN ('anonymous', 'identified')",
                           name=op.f("ck_surveys_anonymity")),
        sa.CheckConstraint("NOT (allow_edits AND anonymity = 'anonymous')",
                           name=op.f("ck_surveys_edits_identified")),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], ondelete="CASCADE",
                                name=op.f("fk_surveys_organisation_id_organisations")),
        sa.ForeignKeyConstraint(["process_id"], ["processes.id"], ondelete="CASCADE",
                                name=op.f("fk_surveys_process_id_processes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
        sa.UniqueConstraint("lineage_id", "version", name=op.f("uq_surveys_lineage_id")),
    )
    op.create_index(op.f("ix_surveys_organisation_id"), "surveys", ["organisation_id"])
    op.create_index(op.f("ix_surveys_process_id"), "surveys", ["process_id"])
    op.create_index(op.f("ix_surveys_lineage_id"), "surveys", ["lineage_id"])

    op.create_table(
        "survey_questions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("text", JSONB, nullable=False),
        sa.Column("help", JSONB, nullable=False),
        sa.Column("config", JSONB, nullable=False),
        sa.CheckConstraint(
            "kind IN ('single', 'multiple', 'likert', 'text', 'number', 'ranking')",
            name=op.f("ck_survey_questions_kind"),
        ),
        sa.ForeignKeyConstraint(["survey_id"], ["surveys.id"], ondelete="CASCADE",
                                name=op.f("fk_survey_questions_survey_id_surveys")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_questions")),
        sa.UniqueConstraint("survey_id", "key", name=op.f("uq_survey_questions_survey_id")),
    )

    # No column here refers to an invitation, a stakeholder or a token (anonymity by
    # separation); the id is random and the only time is a date.
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Uuid(), server_default=RANDOM_UUID, nullable=False),
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("submitted_on", sa.Date(), server_default=sa.text("CURRENT_DATE"),
                  nullable=False),
        sa.Column("group_key", sa.String(100), nullable=True),
        sa.Column("reach_tier", sa.SmallInteger(), nullable=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("language", sa.String(5), nullable=False),
        sa.CheckConstraint("channel IN ('invitation', 'multiplier', 'assisted')",
                           name=op.f("ck_survey_responses_channel")),
        sa.ForeignKeyConstraint(["survey_id"], ["surveys.id"], ondelete="CASCADE",
                                name=op.f("fk_survey_responses_survey_id_surveys")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
    )
    op.create_index(op.f("ix_survey_responses_survey_id"), "survey_responses", ["survey_id"])

    op.create_table(
        "survey_answers",
        sa.Column("id", sa.Uuid(), server_default=RANDOM_UUID, nullable=False),
        sa.Column("response_id", sa.Uuid(), nullable=False),
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("question_key", sa.String(40), nullable=False),
        sa.Column("ordinal", sa.SmallInteger(), nullable=False),
        sa.Column("choice", sa.String(100), nullable=True),
        sa.Column("num", sa.Float(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["response_id"], ["survey_responses.id"], ondelete="CASCADE",
                                name=op.f("fk_survey_answers_response_id_survey_responses")),
        sa.ForeignKeyConstraint(["survey_id"], ["surveys.id"], ondelete="CASCADE",
                                name=op.f("fk_survey_answers_survey_id_surveys")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_answers")),
    )
    op.create_index("ix_survey_answers_survey_question", "survey_answers",
                    ["survey_id", "question_key"])
    op.create_index(op.f("ix_survey_answers_response_id"), "survey_answers", ["response_id"])

    op.create_table(
        "survey_response_links",
        sa.Column("response_id", sa.Uuid(), nullable=False),
        sa.Column("invitation_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["response_id"], ["survey_responses.id"], ondelete="CASCADE",
                                name=op.f("fk_survey_response_links_response_id_survey_responses")),
        sa.ForeignKeyConstraint(["invitation_id"], ["invitations.id"], ondelete="CASCADE",
                                name=op.f("fk_survey_response_links_invitation_id_invitations")),
        sa.PrimaryKeyConstraint("response_id", name=op.f("pk_survey_response_links")),
        sa.UniqueConstraint("invitation_id", name=op.f("uq_survey_response_links_invitation_id")),
    )

    op.create_table(
        "survey_drafts",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("answers", JSONB, nullable=False),
        sa.Column("saved_on", sa.Date(), server_default=sa.text("CURRENT_DATE"), nullable=False),
        sa.ForeignKeyConstraint(["survey_id"], ["surveys.id"], ondelete="CASCADE",
                                name=op.f("fk_survey_drafts_survey_id_surveys")),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_survey_drafts")),
    )
    op.create_index(op.f("ix_survey_drafts_survey_id"), "survey_drafts", ["survey_id"])


def downgrade() -> None:
    op.drop_table("survey_drafts")
    op.drop_table("survey_response_links")
    op.drop_table("survey_answers")
    op.drop_table("survey_responses")
    op.drop_table("survey_questions")
    op.drop_table("surveys")
