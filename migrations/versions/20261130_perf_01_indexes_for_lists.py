"""indexes matching each list's filter and sort order; drop indexes others cover

Revision ID: perf_01
Revises: accesslog_01
Create Date: 2026-11-30 05:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'perf_01'
down_revision = 'accesslog_01'
branch_labels = None
depends_on = None

UNCLAIMED = sa.text("claimed_by_id IS NULL")


def upgrade():
    # Covered by a unique constraint or a wider index that starts with the same column(s).
    op.drop_index('ix_process_versions_process_key', table_name='process_versions')
    op.drop_index('ix_cases_status', table_name='cases')
    op.drop_index('ix_cases_stage', table_name='cases')
    op.drop_index('ix_work_items_case_id', table_name='work_items')
    op.drop_index('ix_work_items_inbox', table_name='work_items')
    op.drop_index('ix_timers_case_id', table_name='timers')
    op.drop_index('ix_timers_due', table_name='timers')
    op.drop_index('ix_case_events_case_id', table_name='case_events')
    op.drop_index('ix_agenda_items_meeting_id', table_name='agenda_items')

    op.create_index('ix_cases_opened', 'cases', ['opened_at', 'id'])
    op.create_index('ix_cases_status_opened', 'cases', ['status', 'opened_at', 'id'])
    op.create_index('ix_cases_stage_opened', 'cases', ['stage', 'opened_at', 'id'])
    op.create_index('ix_work_items_inbox', 'work_items', ['organisation_id', 'status', 'due_at', 'created_at', 'id'])
    op.create_index('ix_work_items_unclaimed', 'work_items', ['organisation_id', 'status', 'due_at', 'created_at', 'id'],
                    postgresql_where=UNCLAIMED, sqlite_where=UNCLAIMED)
    op.create_index('ix_work_items_mine', 'work_items', ['claimed_by_id', 'status', 'due_at', 'created_at', 'id'])
    op.create_index('ix_timers_due', 'timers', ['status', 'due_at', 'id'])
    op.create_index('ix_case_events_case_id_id', 'case_events', ['case_id', 'id'])
    op.create_index('ix_case_events_work_item_id', 'case_events', ['work_item_id'])


def downgrade():
    op.drop_index('ix_case_events_work_item_id', table_name='case_events')
    op.drop_index('ix_case_events_case_id_id', table_name='case_events')
    op.drop_index('ix_timers_due', table_name='timers')
    op.drop_index('ix_work_items_mine', table_name='work_items')
    op.drop_index('ix_work_items_unclaimed', table_name='work_items')
    op.drop_index('ix_work_items_inbox', table_name='work_items')
    op.drop_index('ix_cases_stage_opened', table_name='cases')
    op.drop_index('ix_cases_status_opened', table_name='cases')
    op.drop_index('ix_cases_opened', table_name='cases')

    op.create_index('ix_agenda_items_meeting_id', 'agenda_items', ['meeting_id'])
    op.create_index('ix_case_events_case_id', 'case_events', ['case_id'])
    op.create_index('ix_timers_due', 'timers', ['status', 'due_at'])
    op.create_index('ix_timers_case_id', 'timers', ['case_id'])
    op.create_index('ix_work_items_inbox', 'work_items', ['organisation_id', 'status', 'due_at'])
    op.create_index('ix_work_items_case_id', 'work_items', ['case_id'])
    op.create_index('ix_cases_stage', 'cases', ['stage'])
    op.create_index('ix_cases_status', 'cases', ['status'])
    op.create_index('ix_process_versions_process_key', 'process_versions', ['process_key'])
