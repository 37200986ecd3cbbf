"""what calls are about: contact reason, outcome and summary per rule-set version

Revision ID: 0018
Revises: 0017

* ``call_insights``: per call and rule-set version, the contact reason and outcome with their
  confidences, the method's version and a hash of what it was computed from (re-scoring under a
  version with the same reasons copies the row instead of computing it again); reason, outcome and summary with their evidence in
  ``detail_json`` (sealed under the call's key: it quotes the transcript);
* ``calls.reason``, ``calls.outcome``: the current ones, for the list, filters, feed and aggregates.
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('call_insights',
                    sa.Column('call_id', sa.String(length=36), sa.ForeignKey('calls.id', ondelete='CASCADE'), nullable=False),
                    sa.Column('rules_version', sa.Integer(), nullable=False),
                    sa.Column('reason', sa.String(length=63), nullable=True),
                    sa.Column('reason_confidence', sa.Float(), nullable=True),
                    sa.Column('outcome', sa.String(length=20), nullable=False),
                    sa.Column('outcome_confidence', sa.Float(), nullable=False),
                    sa.Column('version', sa.String(length=300), nullable=False),
                    sa.Column('basis', sa.String(length=64), nullable=False),
                    sa.Column('detail_json', sa.Text(), nullable=False),
                    sa.PrimaryKeyConstraint('call_id', 'rules_version'))
    op.create_index('ix_call_insights_version_reason', 'call_insights', ['rules_version', 'reason'])
    op.create_index('ix_call_insights_basis', 'call_insights', ['basis'])
    with op.batch_alter_table('calls') as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(length=63), nullable=True))
        batch_op.add_column(sa.Column('outcome', sa.String(length=20), nullable=True))
    op.create_index('ix_calls_reason', 'calls', ['reason'])
    op.create_index('ix_calls_outcome', 'calls', ['outcome'])


def downgrade() -> None:
    op.drop_index('ix_calls_outcome', table_name='calls')
    op.drop_index('ix_calls_reason', table_name='calls')
    with op.batch_alter_table('calls') as batch_op:
        batch_op.drop_column('outcome')
        batch_op.drop_column('reason')
    op.drop_index('ix_call_insights_basis', table_name='call_insights')
    op.drop_index('ix_call_insights_version_reason', table_name='call_insights')
    op.drop_table('call_insights')
