"""rule sets, categories and re-scoring runs

Revision ID: 0008
Revises: 0007

* ``rule_sets``: versions of the deployment's categories (YAML), never changed once written; one
  active. The starter set becomes version 1 the first time the service needs a rule set.
* ``call_categories``: the categories each call matched under each version, with evidence.
* ``calls.rules_version``: the version whose categories are the call's current ones.
* ``rescore_runs``: progress of re-scoring stored calls under a version (issue 13).
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'rule_sets',
        sa.Column('version', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('yaml', sa.Text(), nullable=False),
        sa.Column('digest', sa.String(length=12), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False, index=True),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        'call_categories',
        sa.Column('call_id', sa.String(length=36), sa.ForeignKey('calls.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('rules_version', sa.Integer(), primary_key=True),
        sa.Column('category', sa.String(length=63), primary_key=True),
        sa.Column('evidence_json', sa.Text(), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
    )
    op.create_index('ix_call_categories_version_category', 'call_categories', ['rules_version', 'category'])
    op.create_table(
        'rescore_runs',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('rules_version', sa.Integer(), nullable=False),
        sa.Column('since', sa.DateTime(timezone=True), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('skipped', sa.Integer(), nullable=False),
        sa.Column('failed', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('started_by', sa.String(length=200), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    )
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rules_version', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_column('rules_version')
    op.drop_table('rescore_runs')
    op.drop_index('ix_call_categories_version_category', table_name='call_categories')
    op.drop_table('call_categories')
    op.drop_table('rule_sets')
