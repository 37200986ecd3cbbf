"""search by meaning, generated summaries

Revision ID: 0020
Revises: 0019

* ``search_vectors``: each call's utterance vectors, int8, sealed under the call's key;
* ``search_codes``: each utterance's 256-bit sign code, what the in-process index scans;
* ``generated_summaries``: a call's summary written by a local model (sealed), or why none.

Calls analysed before this revision have none until they are re-scored or analysed again.
"""
from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('search_vectors',
                    sa.Column('call_id', sa.String(length=36), sa.ForeignKey('calls.id', ondelete='CASCADE'), nullable=False),
                    sa.Column('version', sa.String(length=200), nullable=False),
                    sa.Column('utterances', sa.Integer(), nullable=False),
                    sa.Column('vectors', sa.Text(), nullable=False),
                    sa.PrimaryKeyConstraint('call_id'))
    op.create_table('search_codes',
                    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
                    sa.Column('call_id', sa.String(length=36), sa.ForeignKey('calls.id', ondelete='CASCADE'), nullable=False),
                    sa.Column('utterance', sa.Integer(), nullable=False),
                    sa.Column('code', sa.LargeBinary(length=32), nullable=False),
                    sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_search_codes_call_id', 'search_codes', ['call_id'])
    op.create_table('generated_summaries',
                    sa.Column('call_id', sa.String(length=36), sa.ForeignKey('calls.id', ondelete='CASCADE'), nullable=False),
                    sa.Column('model', sa.String(length=300), nullable=False),
                    sa.Column('seconds', sa.Float(), nullable=False),
                    sa.Column('text', sa.Text(), nullable=True),
                    sa.Column('fallback', sa.String(length=300), nullable=True),
                    sa.Column('made_at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('call_id'))


def downgrade() -> None:
    op.drop_table('generated_summaries')
    op.drop_index('ix_search_codes_call_id', table_name='search_codes')
    op.drop_table('search_codes')
    op.drop_table('search_vectors')
