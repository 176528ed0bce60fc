"""add the end event a completed case reached (cases.end_event), shown with its result

Revision ID: covenant_01
Revises: dc96c8a620fb
Create Date: 2026-11-30 05:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'covenant_01'
down_revision = 'dc96c8a620fb'
branch_labels = None
depends_on = None


def upgrade():
    # Cases completed before this column existed keep NULL: which end they reached was not stored.
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('end_event', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('end_event')
