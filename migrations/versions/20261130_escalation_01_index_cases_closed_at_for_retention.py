"""index cases.closed_at, so the retention sweep reads only the newly eligible cases

Revision ID: escalation_01
Revises: dc96c8a620fb
Create Date: 2026-11-30 05:50:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'escalation_01'
down_revision = 'dc96c8a620fb'
branch_labels = None
depends_on = None


def upgrade():
    # propose_destructions selects a range of closed_at per retention period on every sweeper tick.
    op.create_index(op.f('ix_cases_closed_at'), 'cases', ['closed_at'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_cases_closed_at'), table_name='cases')
