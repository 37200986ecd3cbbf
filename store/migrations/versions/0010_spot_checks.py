"""spot checks: the daily QA sample and reviewers' verdicts

Revision ID: 0010
Revises: 0009

* ``calls.escalation_confidence``: the level's confidence as analysed (low-confidence calls are
  over-sampled); filled from the stored results of calls analysed before.
* ``spot_check_draws``: that a day was drawn (once, even when nothing was drawn).
* ``spot_checks``: calls drawn into the day's stratified sample, with their chance of being drawn
  and weight, and the reviewer's level and categories once reviewed (issue 13).
"""
import json

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('escalation_confidence', sa.Float(), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, result_json FROM calls WHERE result_json IS NOT NULL")).all()
    for call_id, result_json in rows:
        try:
            confidence = ((json.loads(result_json).get("call_scores") or {}).get("escalation") or {}).get("confidence")
        except ValueError:
            continue
        if confidence is not None:
            conn.execute(sa.text("UPDATE calls SET escalation_confidence = :c WHERE id = :i"), {"c": confidence, "i": call_id})
    op.create_table(
        'spot_check_draws',
        sa.Column('day', sa.String(length=10), primary_key=True),
        sa.Column('share', sa.Float(), nullable=False),
        sa.Column('calls', sa.Integer(), nullable=False),
        sa.Column('sampled', sa.Integer(), nullable=False),
        sa.Column('drawn_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        'spot_checks',
        sa.Column('call_id', sa.String(length=36), sa.ForeignKey('calls.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('day', sa.String(length=10), nullable=False, index=True),
        sa.Column('stratum', sa.String(length=420), nullable=False),
        sa.Column('probability', sa.Float(), nullable=False),
        sa.Column('weight', sa.Float(), nullable=False),
        sa.Column('reason', sa.String(length=40), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False, index=True),
        sa.Column('model_level', sa.String(length=10), nullable=True),
        sa.Column('reviewer_level', sa.String(length=10), nullable=True),
        sa.Column('categories_model', sa.Text(), nullable=True),
        sa.Column('categories_reviewer', sa.Text(), nullable=True),
        sa.Column('reviewer', sa.String(length=200), nullable=True),
        sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True, index=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('spot_checks')
    op.drop_table('spot_check_draws')
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_column('escalation_confidence')
