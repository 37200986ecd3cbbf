"""re-scoring runs in the worker pool

Revision ID: 0011
Revises: 0010

* ``rescore_runs.worker_id``, ``rescore_runs.lease_until``: a run asked for over the API is
  queued and taken by a worker, which renews its lease after each batch; if the worker dies,
  another takes the run over when the lease ends and resumes it (calls done are skipped).
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('rescore_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('worker_id', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('rescore_runs', schema=None) as batch_op:
        batch_op.drop_column('lease_until')
        batch_op.drop_column('worker_id')
