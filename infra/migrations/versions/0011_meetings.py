"""events of a process (meetings): registrations and waitlist, their mail ledger, the
unlinkable self-descriptions of who came

Revision ID: 0010_meetings
Revises: 0005_groups_legal_basis
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0010_meetings'
down_revision = '0009_webhooks'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('meetings',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('process_id', sa.Uuid(), nullable=False),
    sa.Column('phase_key', sa.String(length=100), nullable=False),
    sa.Column('template_key', sa.String(length=100), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('location', sa.Text(), nullable=False),
    sa.Column('accessibility', sa.Text(), nullable=False),
    sa.Column('online_url', sa.String(length=500), nullable=True),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('places_taken', sa.Integer(), server_default='0', nullable=False),
    sa.Column('waiting', sa.Integer(), server_default='0', nullable=False),
    sa.Column('registration_opens_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('registration_deadline', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('public', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('reminder_hours', sa.SmallInteger(), server_default='24', nullable=False),
    sa.Column('sequence', sa.Integer(), server_default='0', nullable=False),
    sa.Column('minutes', sa.Text(), server_default='', nullable=False),
    sa.Column('created_by', sa.String(length=320), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('planned', 'open', 'full', 'held', 'cancelled')", name=op.f('ck_meetings_status')),
    sa.CheckConstraint('capacity >= 0', name=op.f('ck_meetings_capacity')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_meetings_ends_after_start')),
    sa.CheckConstraint('places_taken >= 0 AND (capacity = 0 OR places_taken <= capacity)', name=op.f('ck_meetings_within_capacity')),
    sa.CheckConstraint('waiting >= 0', name=op.f('ck_meetings_waiting')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_meetings_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['process_id'], ['processes.id'], name=op.f('fk_meetings_process_id_processes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meetings')),
    sa.UniqueConstraint('process_id', 'template_key', name=op.f('uq_meetings_process_id'))
    )
    op.create_index(op.f('ix_meetings_organisation_id'), 'meetings', ['organisation_id'], unique=False)
    op.create_index(op.f('ix_meetings_process_id'), 'meetings', ['process_id'], unique=False)
    op.create_table('meeting_registrations',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('meeting_id', sa.Uuid(), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('invitation_id', sa.Uuid(), nullable=True),
    sa.Column('stakeholder_id', sa.Uuid(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('companions', sa.SmallInteger(), nullable=False),
    sa.Column('needs', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('walk_in', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('checkin_code', sa.String(length=8), nullable=False),
    sa.Column('confirm_hash', sa.String(length=64), nullable=True),
    sa.Column('ics_sequence', sa.Integer(), server_default='0', nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('promoted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'registered', 'waitlisted', 'cancelled', 'declined')", name=op.f('ck_meeting_registrations_status')),
    sa.CheckConstraint('companions BETWEEN 0 AND 20', name=op.f('ck_meeting_registrations_companions')),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitations.id'], name=op.f('fk_meeting_registrations_invitation_id_invitations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meeting_registrations_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_meeting_registrations_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['stakeholder_id'], ['stakeholders.id'], name=op.f('fk_meeting_registrations_stakeholder_id_stakeholders'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_registrations')),
    sa.UniqueConstraint('checkin_code', name=op.f('uq_meeting_registrations_checkin_code')),
    sa.UniqueConstraint('confirm_hash', name=op.f('uq_meeting_registrations_confirm_hash'))
    )
    op.create_index('ix_meeting_registrations_meeting_status_seq', 'meeting_registrations', ['meeting_id', 'status', 'seq'], unique=False)
    op.create_index(op.f('ix_meeting_registrations_organisation_id'), 'meeting_registrations', ['organisation_id'], unique=False)
    op.create_index(op.f('ix_meeting_registrations_stakeholder_id'), 'meeting_registrations', ['stakeholder_id'], unique=False)
    op.create_index('uq_meeting_registrations_invitation', 'meeting_registrations', ['meeting_id', 'invitation_id'], unique=True, postgresql_where=sa.text('invitation_id IS NOT NULL'))
    op.create_index('uq_meeting_registrations_public_email', 'meeting_registrations', ['meeting_id', 'email'], unique=True, postgresql_where=sa.text('invitation_id IS NULL AND NOT walk_in'))
    op.create_table('meeting_self_descriptions',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('meeting_id', sa.Uuid(), nullable=False),
    sa.Column('process_id', sa.Uuid(), nullable=False),
    sa.Column('age_band', sa.String(length=20), nullable=False),
    sa.Column('gender', sa.String(length=20), nullable=False),
    sa.Column('origin', sa.String(length=40), nullable=False),
    sa.Column('group_key', sa.String(length=100), nullable=False),
    sa.Column('given_on', sa.Date(), server_default=sa.text('CURRENT_DATE'), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meeting_self_descriptions_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['process_id'], ['processes.id'], name=op.f('fk_meeting_self_descriptions_process_id_processes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_self_descriptions'))
    )
    op.create_index(op.f('ix_meeting_self_descriptions_meeting_id'), 'meeting_self_descriptions', ['meeting_id'], unique=False)
    op.create_index(op.f('ix_meeting_self_descriptions_process_id'), 'meeting_self_descriptions', ['process_id'], unique=False)
    op.create_table('meeting_mails',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('meeting_id', sa.Uuid(), nullable=False),
    sa.Column('registration_id', sa.Uuid(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed', 'skipped')", name=op.f('ck_meeting_mails_status')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meeting_mails_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['meeting_registrations.id'], name=op.f('fk_meeting_mails_registration_id_meeting_registrations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_mails')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_meeting_mails_idempotency_key'))
    )
    op.create_index('ix_meeting_mails_pending', 'meeting_mails', ['meeting_id'], unique=False, postgresql_where=sa.text("status = 'pending'"))
    op.create_index(op.f('ix_meeting_mails_registration_id'), 'meeting_mails', ['registration_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_meeting_mails_registration_id'), table_name='meeting_mails')
    op.drop_index('ix_meeting_mails_pending', table_name='meeting_mails', postgresql_where=sa.text("status = 'pending'"))
    op.drop_table('meeting_mails')
    op.drop_index(op.f('ix_meeting_self_descriptions_process_id'), table_name='meeting_self_descriptions')
    op.drop_index(op.f('ix_meeting_self_descriptions_meeting_id'), table_name='meeting_self_descriptions')
    op.drop_table('meeting_self_descriptions')
    op.drop_index('uq_meeting_registrations_public_email', table_name='meeting_registrations', postgresql_where=sa.text('invitation_id IS NULL AND NOT walk_in'))
    op.drop_index('uq_meeting_registrations_invitation', table_name='meeting_registrations', postgresql_where=sa.text('invitation_id IS NOT NULL'))
    op.drop_index(op.f('ix_meeting_registrations_stakeholder_id'), table_name='meeting_registrations')
    op.drop_index(op.f('ix_meeting_registrations_organisation_id'), table_name='meeting_registrations')
    op.drop_index('ix_meeting_registrations_meeting_status_seq', table_name='meeting_registrations')
    op.drop_table('meeting_registrations')
    op.drop_index(op.f('ix_meetings_process_id'), table_name='meetings')
    op.drop_index(op.f('ix_meetings_organisation_id'), table_name='meetings')
    op.drop_table('meetings')
