"""topics of customers' problem statements

Revision ID: 0019
Revises: 0018

* ``call_insights.problem_vector``: the problem statement's sentence vector (sealed);
* ``topic_runs``: topics over a window of days with their terms, volumes, sentiment and surges;
* ``call_topics``: each call's topic in a run (deleted with the call).
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('call_insights') as batch_op:
        batch_op.add_column(sa.Column('problem_vector', sa.Text(), nullable=True))
    op.create_table('topic_runs',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('day_from', sa.String(length=10), nullable=False),
                    sa.Column('day_to', sa.String(length=10), nullable=False),
                    sa.Column('baseline_days', sa.Integer(), nullable=False),
                    sa.Column('statements', sa.Integer(), nullable=False),
                    sa.Column('clustered', sa.Integer(), nullable=False),
                    sa.Column('version', sa.String(length=200), nullable=False),
                    sa.Column('topics_json', sa.Text(), nullable=False),
                    sa.Column('created_by', sa.String(length=200), nullable=False),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('auto_day', sa.String(length=10), nullable=True),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('auto_day', name='uq_topic_runs_auto_day'))
    for col in ('day_from', 'day_to', 'created_at'):
        op.create_index(f'ix_topic_runs_{col}', 'topic_runs', [col])
    op.create_table('call_topics',
                    sa.Column('run_id', sa.Integer(), sa.ForeignKey('topic_runs.id', ondelete='CASCADE'), nullable=False),
                    sa.Column('call_id', sa.String(length=36), sa.ForeignKey('calls.id', ondelete='CASCADE'), nullable=False),
                    sa.Column('topic', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('run_id', 'call_id'))
    op.create_index('ix_call_topics_call_id', 'call_topics', ['call_id'])
    op.create_index('ix_call_topics_run_topic', 'call_topics', ['run_id', 'topic'])


def downgrade() -> None:
    op.drop_index('ix_call_topics_run_topic', table_name='call_topics')
    op.drop_index('ix_call_topics_call_id', table_name='call_topics')
    op.drop_table('call_topics')
    for col in ('day_from', 'day_to', 'created_at'):
        op.drop_index(f'ix_topic_runs_{col}', table_name='topic_runs')
    op.drop_table('topic_runs')
    with op.batch_alter_table('call_insights') as batch_op:
        batch_op.drop_column('problem_vector')
