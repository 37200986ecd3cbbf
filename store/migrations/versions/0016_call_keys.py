"""per-call data keys (crypto-shredding)

Revision ID: 0016
Revises: 0015

* ``call_keys``: one random data key per call, wrapped under the deployment's key-encryption key
  (``<data_dir>/call-keys.keyring``, outside the database); the call's file name, result, search
  words and corrections' text are sealed under it, and erasure deletes it (privacy/call_keys.py).
* ``calls.filename`` and ``corrections.display_name`` become Text: a sealed value is longer than
  the 255 / 200 characters its plaintext may have.

Downgrading drops the keys: every value sealed meanwhile can no longer be opened (and code from
before this revision would show it as ``cs1:…``). Downgrade only a database restored from before
the upgrade.
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('call_keys',
                    sa.Column('call_id', sa.String(length=36), nullable=False),
                    sa.Column('kek_id', sa.String(length=16), nullable=False),
                    sa.Column('wrapped', sa.String(length=200), nullable=False),
                    sa.PrimaryKeyConstraint('call_id'))
    op.create_index('ix_call_keys_kek_id', 'call_keys', ['kek_id'])
    with op.batch_alter_table('calls') as batch_op:
        batch_op.alter_column('filename', type_=sa.Text(), existing_type=sa.String(length=255), existing_nullable=False)
    with op.batch_alter_table('corrections') as batch_op:
        batch_op.alter_column('display_name', type_=sa.Text(), existing_type=sa.String(length=200), existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table('corrections') as batch_op:
        batch_op.alter_column('display_name', type_=sa.String(length=200), existing_type=sa.Text(), existing_nullable=True)
    with op.batch_alter_table('calls') as batch_op:
        batch_op.alter_column('filename', type_=sa.String(length=255), existing_type=sa.Text(), existing_nullable=False)
    op.drop_index('ix_call_keys_kek_id', table_name='call_keys')
    op.drop_table('call_keys')
