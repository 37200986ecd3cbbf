"""customer pseudonyms and the access log

Revision ID: 0007
Revises: 0006

* ``calls.customer_ref``, ``calls.phone_ref``: keyed hashes (HMAC-SHA256 under the deployment's
  secret) of the customer id and phone number given at upload; the identifiers themselves are
  never stored (issue 12). Calls stored before have neither.
* ``access_log``: who (API key) read which call's transcript or audio, and when; kept for
  ``CALLSCOPE_ACCESS_LOG_DAYS``. Rows keep the call id after the call is erased (accountability),
  nothing else of it.
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_ref', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('phone_ref', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_calls_customer_ref'), ['customer_ref'], unique=False)
        batch_op.create_index(batch_op.f('ix_calls_phone_ref'), ['phone_ref'], unique=False)
    op.create_table(
        'access_log',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column('api_key_id', sa.Integer(), nullable=True, index=True),
        sa.Column('key_name', sa.String(length=200), nullable=False),
        sa.Column('call_id', sa.String(length=36), nullable=False, index=True),
        sa.Column('resource', sa.String(length=20), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('access_log')
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calls_phone_ref'))
        batch_op.drop_index(batch_op.f('ix_calls_customer_ref'))
        batch_op.drop_column('phone_ref')
        batch_op.drop_column('customer_ref')
