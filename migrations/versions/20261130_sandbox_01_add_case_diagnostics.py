"""add case diagnostics: the full text of a case's error, apart from its value-free message

Revision ID: sandbox_01
Revises: escalation_01
Create Date: 2026-11-30 05:30:00

"""
from alembic import op
import sqlalchemy as sa

import engine.db


# revision identifiers, used by Alembic.
revision = 'sandbox_01'
down_revision = 'escalation_01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_diagnostics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('element_id', sa.String(length=200), nullable=True),
    sa.Column('exception', sa.String(length=100), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_diagnostics_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_diagnostics'))
    )
    with op.batch_alter_table('case_diagnostics', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_diagnostics_case_id'), ['case_id'], unique=False)


def downgrade():
    with op.batch_alter_table('case_diagnostics', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_diagnostics_case_id'))
    op.drop_table('case_diagnostics')
