"""audio reference counts, atomic deduplication, per-call settings, reviewer display names

Revision ID: 0004
Revises: 0003

* ``audio_files``: one row per stored audio file with the number of calls holding it, filled
  from the existing calls.
* ``calls``: a unique constraint on (sha256, external_id). Earlier versions could store the
  same pair twice under concurrent uploads; such duplicates are kept (never deleted by a
  migration), the later ones get ``#dup-<n>`` appended to their external id, and the migration
  logs each one.
* ``calls.settings_json``: the per-call analysis settings given at upload, filled from
  ``channel_map`` for existing calls.
* ``corrections.display_name``: the name a reviewer typed, kept beside the key's name.
"""
import json
import logging

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    conn = op.get_bind()
    op.create_table('audio_files',
                    sa.Column('key', sa.String(length=200), nullable=False),
                    sa.Column('refs', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('key'))
    for key, n in conn.execute(sa.text("SELECT audio_key, count(*) FROM calls GROUP BY audio_key")).all():
        conn.execute(sa.text("INSERT INTO audio_files (key, refs) VALUES (:k, :n)"), {"k": key, "n": n})

    dups = conn.execute(sa.text(
        "SELECT sha256, external_id FROM calls WHERE external_id IS NOT NULL "
        "GROUP BY sha256, external_id HAVING count(*) > 1")).all()
    for sha, ext in dups:
        ids = [r[0] for r in conn.execute(sa.text(
            "SELECT id FROM calls WHERE sha256 = :s AND external_id = :e ORDER BY created_at, id"), {"s": sha, "e": ext})]
        for n, call_id in enumerate(ids[1:], start=1):
            new = f"{ext[:190]}#dup-{n}"
            conn.execute(sa.text("UPDATE calls SET external_id = :x WHERE id = :i"), {"x": new, "i": call_id})
            log.warning("call %s duplicated call %s (same content and external id): its external id is now %r",
                        call_id, ids[0], new)

    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('settings_json', sa.Text(), nullable=True))
        batch_op.create_unique_constraint('uq_calls_sha256_external_id', ['sha256', 'external_id'])
    for call_id, cmap in conn.execute(sa.text("SELECT id, channel_map FROM calls WHERE channel_map IS NOT NULL")).all():
        conn.execute(sa.text("UPDATE calls SET settings_json = :j WHERE id = :i"),
                     {"j": json.dumps({"channel_map": cmap.split(",")}), "i": call_id})

    with op.batch_alter_table('corrections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('display_name', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('corrections', schema=None) as batch_op:
        batch_op.drop_column('display_name')
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_constraint('uq_calls_sha256_external_id', type_='unique')
        batch_op.drop_column('settings_json')
    op.drop_table('audio_files')
