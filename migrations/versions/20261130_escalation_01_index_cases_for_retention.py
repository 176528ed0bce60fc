"""index cases for retention and open work items by due date, so a sweep's cost does not grow with the archive

Revision ID: escalation_01
Revises: covenant_01
Create Date: 2026-11-30 05:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'escalation_01'
down_revision = 'covenant_01'
branch_labels = None
depends_on = None


def upgrade():
    # propose_destructions selects a range of closed_at among cases neither destroyed nor on hold,
    # on every tick: partial (the destroyed archive is not in it) and covering (no row is read).
    candidate = sa.text("destroyed_at IS NULL AND legal_hold_reason IS NULL")
    op.create_index('ix_cases_retention', 'cases', ['closed_at', 'result'], unique=False,
                    sqlite_where=candidate, postgresql_where=candidate)
    # notify_overdue_work reads open items past due, across organisations, on every tick.
    op.create_index('ix_work_items_status_due', 'work_items', ['status', 'due_at'], unique=False)


def downgrade():
    op.drop_index('ix_work_items_status_due', table_name='work_items')
    op.drop_index('ix_cases_retention', table_name='cases')
