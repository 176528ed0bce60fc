"""access log sealed by a keyed chain: rows get an id at insert, seq and hash from the sealer

Revision ID: accesslog_01
Revises: webhard_01
Create Date: 2026-11-30 05:20:49.011047

The table is rebuilt (its primary key moves from seq to a new id). Existing rows keep their
place and their unkeyed SHA-256 chain; the head remembers how many there were (legacy_seq), so
verification checks them the old way and the keyed chain continues from their last hash.
"""
from datetime import UTC

from alembic import op
import sqlalchemy as sa

import engine.db


# revision identifiers, used by Alembic.
revision = 'accesslog_01'
down_revision = 'webhard_01'
branch_labels = None
depends_on = None

COLUMNS = ["at", "user_id", "username", "organisation_id", "case_id", "subject", "action", "purpose",
           "categories", "fields", "covenant_version", "prev_hash", "hash"]


def _copied(row):
    # The reflected table reads SQLite's timestamps back without their zone; they are UTC.
    values = {c: row[c] for c in COLUMNS}
    if values["at"].tzinfo is None:
        values["at"] = values["at"].replace(tzinfo=UTC)
    return values


def _table(name, *, keyed):
    return op.create_table(
        name,
        sa.Column('id' if keyed else 'seq', sa.Integer(), nullable=False, autoincrement=keyed),
        *([sa.Column('seq', sa.Integer(), nullable=True)] if keyed else []),
        sa.Column('at', engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('username', sa.String(length=150), nullable=True),
        sa.Column('organisation_id', sa.Integer(), nullable=True),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('subject', sa.String(length=200), nullable=True),
        sa.Column('action', sa.String(length=50), nullable=False),
        sa.Column('purpose', sa.String(length=200), nullable=False),
        sa.Column('categories', sa.JSON(), nullable=False),
        sa.Column('fields', sa.JSON(), nullable=False),
        sa.Column('covenant_version', sa.String(length=50), nullable=True),
        sa.Column('prev_hash', sa.String(length=64), nullable=keyed),
        sa.Column('hash', sa.String(length=64), nullable=keyed),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                                name=op.f('fk_access_log_organisation_id_organisations')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_access_log_user_id_users')),
        sa.PrimaryKeyConstraint('id' if keyed else 'seq', name=op.f('pk_access_log')),
        *([sa.UniqueConstraint('seq', name=op.f('uq_access_log_seq'))] if keyed else []),
    )


def upgrade():
    bind = op.get_bind()
    old = sa.Table('access_log', sa.MetaData(), autoload_with=bind)
    rows = [dict(r._mapping) for r in bind.execute(sa.select(old).order_by(old.c.seq))]
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_log_case_id'))
        batch_op.drop_index('ix_access_log_case')
    op.drop_table('access_log')
    table = _table('access_log', keyed=True)
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.create_index('ix_access_log_case', ['case_id', 'id'], unique=False)
    if rows:
        op.bulk_insert(table, [{**_copied(r), "id": r["seq"], "seq": r["seq"]} for r in rows])
        if bind.dialect.name == "postgresql":
            op.execute("SELECT setval(pg_get_serial_sequence('access_log', 'id'), (SELECT max(id) FROM access_log))")
    with op.batch_alter_table('access_log_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legacy_seq', sa.Integer(), nullable=False, server_default='0'))
    # What was chained before the key existed stays checkable with the old, unkeyed digest.
    op.execute("UPDATE access_log_head SET legacy_seq = last_seq")


def downgrade():
    # Unsealed rows have no place in the old chain: they are dropped with the keyed columns.
    bind = op.get_bind()
    new = sa.Table('access_log', sa.MetaData(), autoload_with=bind)
    rows = [dict(r._mapping) for r in bind.execute(sa.select(new).where(new.c.seq.is_not(None))
                                                   .order_by(new.c.seq))]
    with op.batch_alter_table('access_log_head', schema=None) as batch_op:
        batch_op.drop_column('legacy_seq')
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.drop_index('ix_access_log_case')
    op.drop_table('access_log')
    table = _table('access_log', keyed=False)
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.create_index('ix_access_log_case', ['case_id', 'seq'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_log_case_id'), ['case_id'], unique=False)
    if rows:
        op.bulk_insert(table, [{**_copied(r), "seq": r["seq"]} for r in rows])
