"""rate-limit counters in the database

Revision ID: 0015
Revises: 0014

* ``rate_counters``: the fixed-window counters of the per-key and per-address rate limits, shared
  by every API process on the database (``CALLSCOPE_RATE_LIMIT_STORAGE=database``, the default;
  store/rate_store.py). Keys are HMACs of the limit and the caller; ended windows are swept.
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rate_counters',
                    sa.Column('key', sa.String(length=64), nullable=False),
                    sa.Column('count', sa.Integer(), nullable=False),
                    sa.Column('expires_at', sa.Float(), nullable=False),
                    sa.PrimaryKeyConstraint('key'))
    op.create_index('ix_rate_counters_expires_at', 'rate_counters', ['expires_at'])


def downgrade() -> None:
    op.drop_index('ix_rate_counters_expires_at', table_name='rate_counters')
    op.drop_table('rate_counters')
