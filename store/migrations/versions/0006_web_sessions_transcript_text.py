"""web sessions and transcript search: the QA app's sign-in sessions, the text the calls list
searches

Revision ID: 0006
Revises: 0005

* ``web_sessions``: one row per signed-in browser (issue 11). The cookie holds a random token;
  the row keeps only its SHA-256, the API key it stands for, the CSRF token and when it expires.
  Revoking the key or signing out ends the session; a key's erasure removes its sessions.
* ``calls.transcript_text``: the call's words in lower case, for the list's free-text search.
  Filled from the stored results of analysed calls (erasing a call removes it with the row).
"""
import json

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'web_sessions',
        sa.Column('token_sha256', sa.String(length=64), primary_key=True),
        sa.Column('api_key_id', sa.Integer(), sa.ForeignKey('api_keys.id', ondelete='CASCADE'), nullable=False, index=True),
        sa.Column('csrf', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False, index=True),
    )
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('transcript_text', sa.Text(), nullable=True))
    conn = op.get_bind()
    calls = sa.table('calls', sa.column('id'), sa.column('status'), sa.column('result_json'), sa.column('transcript_text'))
    done = conn.execute(sa.select(calls.c.id, calls.c.result_json).where(calls.c.status == 'done')).all()
    for call_id, result_json in done:
        result = json.loads(result_json or '{}')
        text = ' '.join(u.get('text', '') for u in result.get('utterances') or []).lower()
        conn.execute(calls.update().where(calls.c.id == call_id).values(transcript_text=text))


def downgrade() -> None:
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_column('transcript_text')
    op.drop_table('web_sessions')
