"""repair survey times stored as ±infinity

Until every time was bounded to 2000-2100 (workflows/input_rules.py), a survey accepted
`0001-01-01T00:00:00Z` or `9999-12-31T23:59:59.999999Z`, which PostgreSQL stored as -infinity
or infinity; read back (as naive datetime.min/max) every page and endpoint showing the survey
failed. The repair keeps what each meant: opening at -infinity is "open since always" (NULL),
closing at +infinity "never closes" (NULL), closing at -infinity "closed since created";
opening at +infinity "never opens" becomes the last moment of the window.

Revision ID: 0005_boundary
Revises: 0004_surveys
"""

from alembic import op

revision = "0005_boundary"
down_revision = "0007_org_templates"
branch_labels = None
depends_on = None

REPAIRS = [
    "UPDATE surveys SET opens_at = NULL WHERE opens_at = '-infinity'",
    "UPDATE surveys SET opens_at = TIMESTAMPTZ '2100-12-31 23:59:59+00' "
    "WHERE opens_at = 'infinity'",
    "UPDATE surveys SET closes_at = NULL WHERE closes_at = 'infinity'",
    "UPDATE surveys SET closes_at = created_at WHERE closes_at = '-infinity'",
]


def upgrade() -> None:
    for statement in REPAIRS:
        op.execute(statement)


def downgrade() -> None:
    pass  # a repair: the infinite values are not wanted back
