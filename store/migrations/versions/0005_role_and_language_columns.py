"""role and language columns: how sure the roles are, a contradicted channel map, the call's
direction and language

Revision ID: 0005
Revises: 0004

* ``calls.role_confidence``, ``calls.role_note``, ``calls.direction``: from the analysis
  (``call_scores``), so listing, filters and the feed can tell calls whose agent/customer
  split is doubtful (issue 15). Filled from the stored results of analysed calls; results made
  before directions existed leave ``direction`` empty.
* ``calls.language``, ``calls.language_confidence``: the call's language (issue 10), filled
  likewise (results made before language detection leave them empty).
"""
import json

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role_confidence', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('role_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('direction', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('language', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('language_confidence', sa.Float(), nullable=True))
        batch_op.create_index(batch_op.f('ix_calls_language'), ['language'], unique=False)
    conn = op.get_bind()
    calls = sa.table('calls', sa.column('id'), sa.column('status'), sa.column('result_json'),
                     sa.column('role_confidence'), sa.column('role_note'), sa.column('direction'),
                     sa.column('language'), sa.column('language_confidence'))
    done = conn.execute(sa.select(calls.c.id, calls.c.result_json).where(calls.c.status == 'done')).all()
    for call_id, result_json in done:
        result = json.loads(result_json or '{}')
        scores = result.get('call_scores') or {}
        conn.execute(calls.update().where(calls.c.id == call_id).values(
            role_confidence=scores.get('role_confidence'), role_note=scores.get('role_note'),
            direction=scores.get('direction'), language=result.get('language'),
            language_confidence=result.get('language_confidence')))


def downgrade() -> None:
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calls_language'))
        batch_op.drop_column('language_confidence')
        batch_op.drop_column('language')
        batch_op.drop_column('direction')
        batch_op.drop_column('role_note')
        batch_op.drop_column('role_confidence')
