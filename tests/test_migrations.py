"""Schema migrations on SQLite and PostgreSQL: a database made by an older release is upgraded
without losing its calls, and what the new schema derives from them is filled in."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import create_engine, text


def _head() -> str:
    """The newest revision among the migrations."""
    from pathlib import Path

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    import callscope.store.db as db

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(db.__file__).resolve().parent / "migrations"))
    return ScriptDirectory.from_config(cfg).get_current_head()


def _old_database_with_a_call(url: str, revision: str, result):
    """A database at schema ``revision`` holding one analysed call ('old-call') with ``result``."""
    from callscope.store.db import migrate

    migrate(url, revision)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO calls (id, sha256, filename, audio_key, size_bytes, status, progress, result_json, created_at, updated_at)"
            " VALUES ('old-call', 'x', 'MUL1011.opus', 'k', 1, 'done', 1.0, :r, :t, :t)"),
            {"r": result.model_dump_json(), "t": datetime.now(timezone.utc)})
    return engine


def _after_upgrade(url: str, revision: str, result, *queries: str) -> list:
    """Store one analysed call at schema ``revision``, upgrade to the newest, and return the
    first row of each query."""
    from callscope.store.db import migrate

    engine = _old_database_with_a_call(url, revision, result)
    migrate(url)
    with engine.connect() as conn:
        rows = [conn.execute(text(q)).first() for q in queries]
    engine.dispose()
    return rows


def test_upgrade_from_0002_backfills_emotion_rows(tmp_path, database, spokenwoz_result):
    from callscope.store.call_columns import emotion_rows
    from callscope.store.db import migrate

    url = database(tmp_path)
    engine = _old_database_with_a_call(url, "0002", spokenwoz_result)
    migrate(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT call_id, role, label, share FROM call_emotions ORDER BY role, label")).all()
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    engine.dispose()
    expected = sorted((r["call_id"], r["role"], r["label"], r["share"]) for r in emotion_rows("old-call", spokenwoz_result))
    assert version == _head()
    assert expected and [tuple(r) for r in rows] == expected


def test_upgrade_to_0004_counts_audio_refs_and_keeps_duplicates(tmp_path, database):
    """Calls stored by 0003 (where concurrent uploads could duplicate a content + external id):
    the migration counts who holds each audio file, keeps every duplicate (renamed, never
    deleted) so the new unique constraint holds, and carries the channel map into the settings."""
    import json

    from callscope.store.db import migrate

    url = database(tmp_path)
    migrate(url, "0003")
    engine = create_engine(url)
    now = datetime.now(timezone.utc)
    rows = [("a", "sha1", "crm-1", "k1", None), ("b", "sha1", "crm-1", "k1", "customer,agent"), ("c", "sha2", None, "k2", None),
            ("d", "sha2", None, "k2", None)]
    with engine.begin() as conn:
        for i, (cid, sha, ext, key, cmap) in enumerate(rows):
            conn.execute(text(
                "INSERT INTO calls (id, sha256, external_id, filename, audio_key, size_bytes, status, progress, channel_map,"
                " created_at, updated_at) VALUES (:i, :s, :e, 'f.wav', :k, 1, 'done', 1.0, :m, :t, :t)"),
                {"i": cid, "s": sha, "e": ext, "k": key, "m": cmap, "t": now.replace(microsecond=i)})
    migrate(url)
    with engine.connect() as conn:
        refs = dict(conn.execute(text("SELECT key, refs FROM audio_files")).all())
        ext = dict(conn.execute(text("SELECT id, external_id FROM calls")).all())
        settings = dict(conn.execute(text("SELECT id, settings_json FROM calls")).all())
    engine.dispose()
    assert refs == {"k1": 2, "k2": 2}
    assert ext == {"a": "crm-1", "b": "crm-1#dup-1", "c": None, "d": None}
    assert json.loads(settings["b"]) == {"channel_map": ["customer", "agent"]} and settings["a"] is None


def test_upgrade_to_0005_fills_role_and_language_columns_from_stored_results(tmp_path, database, spokenwoz_result):
    """An analysed call stored by 0004: its role confidence, contradicted channel map (the
    SpokenWOZ call under the default map) and language come into the new columns."""
    (row,) = _after_upgrade(database(tmp_path), "0004", spokenwoz_result,
                            "SELECT role_confidence, role_note, direction, language, language_confidence "
                            "FROM calls WHERE id = 'old-call'")
    c, r = spokenwoz_result.call_scores, spokenwoz_result
    assert c.role_note and r.language == "en"
    assert tuple(row) == (c.role_confidence, c.role_note, c.direction, r.language, r.language_confidence)


def test_upgrade_to_0006_fills_the_search_text_and_makes_the_sessions_table(tmp_path, database, spokenwoz_result):
    """An analysed call stored by 0005 becomes findable by the list's transcript search; the QA
    app's sessions table exists (and goes with its API key)."""
    (text_,), (sessions,) = _after_upgrade(database(tmp_path), "0005", spokenwoz_result,
                                          "SELECT transcript_text FROM calls WHERE id = 'old-call'",
                                          "SELECT count(*) FROM web_sessions")
    assert text_ == " ".join(u.text for u in spokenwoz_result.utterances).lower() and "cambridge" in text_
    assert sessions == 0


def test_upgrade_to_0008_then_a_rescore_gives_calls_analysed_before_their_categories(tmp_path, database,
                                                                                    spokenwoz_result):
    """A call analysed before rule sets existed has none after the upgrade; re-scoring it from
    its stored analysis (the starter set becomes version 1) gives it its categories."""
    from callscope.qa import rescoring
    from callscope.store.db import make_engine, session_factory

    url = database(tmp_path)
    (version,), (n,) = _after_upgrade(url, "0007", spokenwoz_result, "SELECT rules_version FROM calls",
                                      "SELECT count(*) FROM call_categories")
    assert version is None and n == 0
    sessions = session_factory(make_engine(url), tmp_path)
    run = rescoring.run(sessions, rescoring.start(sessions, None, None, "test").id)
    assert (run.status, run.total, run.done, run.failed) == ("done", 1, 1, 0)
    with sessions() as s:
        assert s.execute(text("SELECT rules_version FROM calls WHERE id = 'old-call'")).scalar_one() == 1
