"""baseline: the case engine, clocks, custody and report figures

Revision ID: 0001
Revises: 
Create Date: 2026-11-25

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0001'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # the schema of casechain 0.1.0, generated from the models and written with
    # plain SQLAlchemy types so that the revision does not depend on sqlmodel.
    op.create_table('sop',
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', 'version')
    )
    op.create_table('station',
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('district', sa.String(), nullable=False),
    sa.Column('province', sa.String(), nullable=True),
    sa.PrimaryKeyConstraint('code')
    )
    with op.batch_alter_table('station', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_station_district'), ['district'], unique=False)

    op.create_table('officer',
    sa.Column('badge', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('role', sa.String(), nullable=False),
    sa.Column('district', sa.String(), nullable=False),
    sa.Column('station', sa.String(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['station'], ['station.code'], ),
    sa.PrimaryKeyConstraint('badge')
    )
    with op.batch_alter_table('officer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_officer_district'), ['district'], unique=False)

    op.create_table('case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=40), nullable=False),
    sa.Column('station', sa.String(), nullable=False),
    sa.Column('district', sa.String(), nullable=False),
    sa.Column('fir_no', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('sop_name', sa.String(), nullable=False),
    sa.Column('sop_version', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(), nullable=False),
    sa.Column('report', sa.String(), nullable=True),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('sections', sa.String(), nullable=False),
    sa.Column('flags', sa.String(), nullable=False),
    sa.Column('complainant', sa.String(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('io', sa.String(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('head_hash', sa.String(), nullable=False),
    sa.ForeignKeyConstraint(['io'], ['officer.badge'], ),
    sa.ForeignKeyConstraint(['station'], ['station.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ref'),
    sa.UniqueConstraint('station', 'fir_no', 'year', name='uq_case_fir')
    )
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_district'), ['district'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_io'), ['io'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_station'), ['station'], unique=False)

    op.create_table('accused',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('accused', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accused_case_id'), ['case_id'], unique=False)

    op.create_table('audit_event',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(), nullable=False),
    sa.Column('actor', sa.String(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(), nullable=False),
    sa.Column('hash', sa.String(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.PrimaryKeyConstraint('case_id', 'seq')
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_recorded', ['recorded_at'], unique=False)

    op.create_table('case_track',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('station', sa.String(length=16), nullable=False),
    sa.Column('district', sa.String(), nullable=False),
    sa.Column('io', sa.String(), nullable=True),
    sa.Column('prosecutor', sa.String(), nullable=True),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fir_month', sa.String(length=7), nullable=False),
    sa.Column('rounds', sa.Integer(), nullable=False),
    sa.Column('holder', sa.String(), nullable=False),
    sa.Column('holder_since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('moved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('moved_by', sa.String(), nullable=False),
    sa.Column('police_seconds', sa.Integer(), nullable=False),
    sa.Column('prosecution_seconds', sa.Integer(), nullable=False),
    sa.Column('late_entries', sa.Integer(), nullable=False),
    sa.Column('overrides', sa.Integer(), nullable=False),
    sa.Column('pauses', sa.Integer(), nullable=False),
    sa.Column('extensions', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.PrimaryKeyConstraint('case_id')
    )
    with op.batch_alter_table('case_track', schema=None) as batch_op:
        batch_op.create_index('ix_track_district_report', ['district', 'fir_month', 'reported_at', 'rounds', 'holder', 'holder_since', 'police_seconds', 'prosecution_seconds', 'overrides', 'late_entries', 'pauses', 'extensions'], unique=False)
        batch_op.create_index('ix_track_station_report', ['station', 'reported_at', 'rounds', 'holder', 'holder_since', 'police_seconds', 'prosecution_seconds', 'overrides', 'late_entries', 'pauses', 'extensions'], unique=False)

    op.create_table('checklistentry',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('detail', sa.String(), nullable=False),
    sa.Column('by', sa.String(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.PrimaryKeyConstraint('case_id', 'item')
    )
    op.create_table('deficiency',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(), nullable=False),
    sa.Column('detail', sa.String(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('raised_by', sa.String(), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('response', sa.String(), nullable=True),
    sa.Column('response_evidence', sa.String(), nullable=True),
    sa.Column('responded_by', sa.String(), nullable=True),
    sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('deficiency', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deficiency_case_id'), ['case_id'], unique=False)

    op.create_table('late_entry',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(), nullable=False),
    sa.Column('hours_late', sa.Float(), nullable=False),
    sa.Column('reason', sa.String(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.PrimaryKeyConstraint('case_id', 'seq')
    )
    op.create_table('clock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('accused_id', sa.Integer(), nullable=True),
    sa.Column('station', sa.String(length=16), nullable=False),
    sa.Column('district', sa.String(), nullable=False),
    sa.Column('io', sa.String(), nullable=True),
    sa.Column('prosecutor', sa.String(), nullable=True),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fir_month', sa.String(length=7), nullable=False),
    sa.Column('kind', sa.String(), nullable=False),
    sa.Column('holidays', sa.String(), nullable=False),
    sa.Column('responsible', sa.String(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('base_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('met_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('met_by', sa.String(), nullable=True),
    sa.Column('met_from', sa.DateTime(timezone=True), nullable=True),
    sa.Column('breached_after', sa.DateTime(timezone=True), nullable=True),
    sa.Column('limit_days', sa.Integer(), nullable=True),
    sa.Column('limit_hours', sa.Integer(), nullable=True),
    sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paused_days', sa.Integer(), nullable=False),
    sa.Column('paused_seconds', sa.Integer(), nullable=False),
    sa.Column('pauses', sa.Integer(), nullable=False),
    sa.Column('extra_days', sa.Integer(), nullable=False),
    sa.Column('extra_hours', sa.Integer(), nullable=False),
    sa.Column('violated', sa.Boolean(), nullable=False),
    sa.Column('start_seq', sa.Integer(), nullable=False),
    sa.Column('met_seq', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['accused_id'], ['accused.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('clock', schema=None) as batch_op:
        batch_op.create_index('ix_clock_case_name', ['case_id', 'name'], unique=False)
        batch_op.create_index('ix_clock_district_report', ['district', 'name', 'fir_month', 'started_at', 'met_from', 'breached_after', 'reported_at', 'accused_id'], unique=False)
        batch_op.create_index('ix_clock_open_due', ['met_at', 'due_at'], unique=False)
        batch_op.create_index('ix_clock_station_report', ['station', 'name', 'started_at', 'met_from', 'breached_after', 'reported_at'], unique=False)
        batch_op.create_index('ix_clock_violated', ['violated', 'met_at'], unique=False)

    op.create_table('custody_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('accused_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('act', sa.String(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(), nullable=True),
    sa.Column('days', sa.Integer(), nullable=True),
    sa.Column('until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('court', sa.String(), nullable=True),
    sa.Column('reason', sa.String(), nullable=True),
    sa.Column('override', sa.String(), nullable=True),
    sa.Column('by', sa.String(), nullable=False),
    sa.ForeignKeyConstraint(['accused_id'], ['accused.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('custody_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_custody_event_accused_id'), ['accused_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_custody_event_case_id'), ['case_id'], unique=False)

    op.create_table('custody_state',
    sa.Column('accused_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('court', sa.String(), nullable=True),
    sa.ForeignKeyConstraint(['accused_id'], ['accused.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.PrimaryKeyConstraint('accused_id')
    )
    with op.batch_alter_table('custody_state', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_custody_state_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_custody_state_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('custody_state', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_custody_state_status'))
        batch_op.drop_index(batch_op.f('ix_custody_state_case_id'))

    op.drop_table('custody_state')
    with op.batch_alter_table('custody_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_custody_event_case_id'))
        batch_op.drop_index(batch_op.f('ix_custody_event_accused_id'))

    op.drop_table('custody_event')
    with op.batch_alter_table('clock', schema=None) as batch_op:
        batch_op.drop_index('ix_clock_violated')
        batch_op.drop_index('ix_clock_station_report')
        batch_op.drop_index('ix_clock_open_due')
        batch_op.drop_index('ix_clock_district_report')
        batch_op.drop_index('ix_clock_case_name')

    op.drop_table('clock')
    op.drop_table('late_entry')
    with op.batch_alter_table('deficiency', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deficiency_case_id'))

    op.drop_table('deficiency')
    op.drop_table('checklistentry')
    with op.batch_alter_table('case_track', schema=None) as batch_op:
        batch_op.drop_index('ix_track_station_report')
        batch_op.drop_index('ix_track_district_report')

    op.drop_table('case_track')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_recorded')

    op.drop_table('audit_event')
    with op.batch_alter_table('accused', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accused_case_id'))

    op.drop_table('accused')
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_station'))
        batch_op.drop_index(batch_op.f('ix_case_state'))
        batch_op.drop_index(batch_op.f('ix_case_io'))
        batch_op.drop_index(batch_op.f('ix_case_district'))

    op.drop_table('case')
    with op.batch_alter_table('officer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_officer_district'))

    op.drop_table('officer')
    with op.batch_alter_table('station', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_station_district'))

    op.drop_table('station')
    op.drop_table('sop')
