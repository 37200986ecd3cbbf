"""Schema migrations on SQLite and PostgreSQL: a database made by an older release is upgraded
without losing its calls, and what the new schema derives from them is filled in."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import create_engine, text


def test_upgrade_from_0002_backfills_emotion_rows(tmp_path, database, spokenwoz_result):
    from callscope.api.call_columns import emotion_rows
    from callscope.api.db import migrate

    url = database(tmp_path)
    migrate(url, "0002")
    engine = create_engine(url)
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO calls (id, sha256, filename, audio_key, size_bytes, status, progress, result_json, created_at, updated_at)"
            " VALUES ('old-call', 'x', 'MUL1011.opus', 'k', 1, 'done', 1.0, :r, :t, :t)"),
            {"r": spokenwoz_result.model_dump_json(), "t": now})
    migrate(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT call_id, role, label, share FROM call_emotions ORDER BY role, label")).all()
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    engine.dispose()
    expected = sorted((r["call_id"], r["role"], r["label"], r["share"]) for r in emotion_rows("old-call", spokenwoz_result))
    assert version == "0003"
    assert expected and [tuple(r) for r in rows] == expected
