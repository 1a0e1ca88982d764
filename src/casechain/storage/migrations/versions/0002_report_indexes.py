"""report indexes for io and prosecutor

Covering indexes so that ``report compliance --by io`` and ``--by prosecutor``
read only an index, already in group order, like ``--by station`` and
``--by district`` (see storage/tables.py and casechain/reports.py).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TRACK_FIGURES = ['rounds', 'holder', 'holder_since', 'police_seconds', 'prosecution_seconds', 'overrides', 'late_entries', 'pauses', 'extensions']
CLOCK_FIGURES = ['name', 'started_at', 'met_from', 'breached_after', 'reported_at']


def upgrade() -> None:
    op.create_index('ix_track_io_report', 'case_track', ['io', 'reported_at', *TRACK_FIGURES], unique=False)
    op.create_index('ix_track_prosecutor_report', 'case_track', ['prosecutor', 'reported_at', *TRACK_FIGURES], unique=False)
    op.create_index('ix_clock_io_report', 'clock', ['io', *CLOCK_FIGURES], unique=False)
    op.create_index('ix_clock_prosecutor_report', 'clock', ['prosecutor', *CLOCK_FIGURES], unique=False)


def downgrade() -> None:
    op.drop_index('ix_clock_prosecutor_report', table_name='clock')
    op.drop_index('ix_clock_io_report', table_name='clock')
    op.drop_index('ix_track_prosecutor_report', table_name='case_track')
    op.drop_index('ix_track_io_report', table_name='case_track')
