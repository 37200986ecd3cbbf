"""transcript reliability per call

Revision ID: 0012
Revises: 0011

* ``calls.transcript_reliability``: the expected share of right words in the call's transcript
  (0..1, transcription/reliability.py), for the list, the feed and aggregates. Calls analysed
  before keep null.
* ``calls.status`` may now also be ``unsupported_language`` (a call heard outside the
  deployment's languages, stopped after language ID); the column is unchanged.
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('transcript_reliability', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_column('transcript_reliability')
