"""evaluation forms, evaluations, the review queue, comments, calibration sessions

Revision ID: 0017
Revises: 0016

* ``eval_forms``: versioned QA scorecards (YAML); ``evaluations`` and ``evaluation_events``: a
  reviewer's answers per call and each change of state, who and when (free text sealed);
* ``review_items``: the review queue (red and orange calls, the spot-check sample);
* ``call_comments``: comments on a moment of a call (sealed); ``calibration_sessions``;
* ``api_keys.agent_id``: an ``agent`` key is bound to one agent.
"""
from alembic import op
import sqlalchemy as sa



revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('eval_forms',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('name', sa.String(length=64), nullable=False),
                    sa.Column('version', sa.Integer(), nullable=False),
                    sa.Column('yaml', sa.Text(), nullable=False),
                    sa.Column('digest', sa.String(length=12), nullable=False),
                    sa.Column('active', sa.Boolean(), nullable=False),
                    sa.Column('created_by', sa.String(length=200), nullable=False),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('name', 'version', name='uq_eval_forms_name_version'))
    op.create_index('ix_eval_forms_name', 'eval_forms', ['name'])
    op.create_index('ix_eval_forms_active', 'eval_forms', ['active'])
    op.create_table('evaluations',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('call_id', sa.String(length=36), sa.ForeignKey('calls.id', ondelete='CASCADE'), nullable=False),
                    sa.Column('form_id', sa.Integer(), sa.ForeignKey('eval_forms.id'), nullable=False),
                    sa.Column('reviewer', sa.String(length=200), nullable=False),
                    sa.Column('reviewer_key_id', sa.Integer(), nullable=True),
                    sa.Column('state', sa.String(length=20), nullable=False),
                    sa.Column('calibration_id', sa.Integer(), nullable=True),
                    sa.Column('answers_json', sa.Text(), nullable=False),
                    sa.Column('notes', sa.Text(), nullable=True),
                    sa.Column('score', sa.Float(), nullable=True),
                    sa.Column('failed_critical', sa.Boolean(), nullable=False),
                    sa.Column('disagreements', sa.Integer(), nullable=False),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
                    sa.PrimaryKeyConstraint('id'))
    for col in ('call_id', 'form_id', 'state', 'calibration_id', 'submitted_at'):
        op.create_index(f'ix_evaluations_{col}', 'evaluations', [col])
    op.create_index('ix_evaluations_state_submitted', 'evaluations', ['state', 'submitted_at'])
    op.create_table('evaluation_events',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('evaluation_id', sa.Integer(), sa.ForeignKey('evaluations.id', ondelete='CASCADE'), nullable=False),
                    sa.Column('call_id', sa.String(length=36), sa.ForeignKey('calls.id', ondelete='CASCADE'), nullable=False),
                    sa.Column('state', sa.String(length=20), nullable=False),
                    sa.Column('by', sa.String(length=200), nullable=False),
                    sa.Column('note', sa.Text(), nullable=True),
                    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_evaluation_events_evaluation_id', 'evaluation_events', ['evaluation_id'])
    op.create_index('ix_evaluation_events_call_id', 'evaluation_events', ['call_id'])
    op.create_table('review_items',
                    sa.Column('call_id', sa.String(length=36), sa.ForeignKey('calls.id', ondelete='CASCADE'), nullable=False),
                    sa.Column('reason', sa.String(length=10), nullable=False),
                    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('analysed_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('assignee', sa.String(length=200), nullable=True),
                    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True),
                    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
                    sa.PrimaryKeyConstraint('call_id'))
    for col in ('reason', 'added_at', 'due_at', 'assignee', 'done_at'):
        op.create_index(f'ix_review_items_{col}', 'review_items', [col])
    op.create_table('call_comments',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('call_id', sa.String(length=36), sa.ForeignKey('calls.id', ondelete='CASCADE'), nullable=False),
                    sa.Column('utterance', sa.Integer(), nullable=True),
                    sa.Column('at_s', sa.Float(), nullable=False),
                    sa.Column('text', sa.Text(), nullable=False),
                    sa.Column('author', sa.String(length=200), nullable=False),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_call_comments_call_id', 'call_comments', ['call_id'])
    op.create_table('calibration_sessions',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('name', sa.String(length=200), nullable=False),
                    sa.Column('form_id', sa.Integer(), sa.ForeignKey('eval_forms.id'), nullable=False),
                    sa.Column('call_ids', sa.Text(), nullable=False),
                    sa.Column('reviewers', sa.Text(), nullable=False),
                    sa.Column('created_by', sa.String(length=200), nullable=False),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('id'))
    with op.batch_alter_table('api_keys') as batch_op:
        batch_op.add_column(sa.Column('agent_id', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('api_keys') as batch_op:
        batch_op.drop_column('agent_id')
    for table in ('calibration_sessions', 'call_comments', 'review_items', 'evaluation_events', 'evaluations', 'eval_forms'):
        op.drop_table(table)
