"""Window alerts against their own baseline (issue 13): the share of red calls in a queue over
the last hour, compared with the same hour of the week over the last weeks, on SQLite and
PostgreSQL. The calls are stored rows (levels set here); the rule, the queries and the outbox
are the real ones."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from callscope.scoring.rules import load_rules

RULES = load_rules("""
categories:
  - name: any_call
    when: {duration_s: {gt: 0}}
windows:
  - name: red_surge
    group_by: queue
    share_of: {level: red}
    window_minutes: 60
    min_calls: 10
    baseline_k: 3
    baseline_weeks: 4
""")


@pytest.fixture()
def sessions(tmp_path, database):
    from callscope.store.db import make_engine, migrate, session_factory

    url = database(tmp_path)
    migrate(url)
    return session_factory(make_engine(url), tmp_path)


def _calls(at, n: int, red_share: float, rng: random.Random, queue: str = "billing", channel: str = "voice") -> list[dict]:
    reds = round(n * red_share)
    return [{"id": str(uuid.uuid4()), "sha256": uuid.uuid4().hex * 2, "filename": "c.wav", "audio_key": "k",
             "size_bytes": 1, "status": "done", "progress": 1.0, "queue": queue, "channel": channel,
             "escalation": "red" if k < reds else rng.choice(["green", "yellow"]),
             "recorded_at": at - timedelta(minutes=rng.randrange(1, 55)), "created_at": at, "updated_at": at}
            for k in range(n)]


def test_a_surge_above_the_same_hour_of_past_weeks_fires_once_and_a_usual_hour_does_not(sessions):
    from callscope.alerts import outbox as alerts
    from callscope.store.db import AlertDelivery, Call, Webhook, utcnow

    rng = random.Random(3)
    now = utcnow()
    rows = []
    for week, share in zip(range(1, 5), (0.10, 0.15, 0.10, 0.05)):  # the usual share of red at this hour
        rows += _calls(now - timedelta(weeks=week), 20, share, rng)
    rows += _calls(now, 20, 0.15, rng)  # this hour: within the usual spread
    with sessions() as s:
        s.execute(insert(Call), rows)
        s.add(Webhook(url="http://127.0.0.1:9/", secret="s" * 20, events="window", min_level="red", active=True,
                      created_by="test", created_at=now))
        s.commit()
        call = s.get(Call, rows[-1]["id"])
        window = RULES.windows[0]
        assert alerts._window(s, call, window, "rules/1+test") == 0  # 15 % against 10 ± 4 %: no alert
        s.execute(insert(Call), _calls(now, 20, 0.75, rng))  # then a surge: 45 % of 40 calls in the hour
        assert alerts._window(s, call, window, "rules/1+test") == 1
        assert alerts._window(s, call, window, "rules/1+test") == 0  # once per window period, not on every call
        s.commit()
        payload = s.execute(select(AlertDelivery.payload_json)).scalar_one()
    import json

    p = json.loads(payload)
    assert p["alert"] == "red_surge" and p["group"] == "billing" and p["calls"] == 40
    assert p["share"] == pytest.approx(0.45) and p["baseline_weeks"] == 4
    assert p["baseline_mean"] == pytest.approx(0.1) and p["share"] > p["baseline_mean"] + 3 * p["baseline_sd"]


def test_a_window_by_channel_fires_for_the_chats_alone(sessions):
    """Issue 28: window alerts have a channel dimension. Red chats surge in a queue whose calls are
    as usual: grouped by channel, the chats' window fires and the voice calls' does not."""
    from callscope.alerts import outbox as alerts
    from callscope.store.db import AlertDelivery, Call, Webhook, utcnow

    rules = load_rules("""
categories:
  - name: any_call
    when: {duration_s: {gt: 0}}
windows:
  - name: red_chats
    group_by: channel
    share_of: {level: red}
    window_minutes: 60
    min_calls: 10
    above: 0.3
""")
    rng, now = random.Random(28), utcnow()
    voice, chats = _calls(now, 20, 0.1, rng, channel="voice"), _calls(now, 20, 0.6, rng, channel="chat")
    with sessions() as s:
        s.execute(insert(Call), voice + chats)
        s.add(Webhook(url="http://127.0.0.1:9/", secret="s" * 20, events="window", min_level="red", active=True,
                      created_by="test", created_at=now))
        s.commit()
        window = rules.windows[0]
        assert alerts._window(s, s.get(Call, voice[0]["id"]), window, "rules/1+test") == 0  # 10 % of voice calls
        assert alerts._window(s, s.get(Call, chats[0]["id"]), window, "rules/1+test") == 1  # 60 % of chats
        s.commit()
        payload = s.execute(select(AlertDelivery.payload_json)).scalar_one()
    import json

    p = json.loads(payload)
    assert (p["alert"], p["group_by"], p["group"], p["calls"]) == ("red_chats", "channel", "chat", 20)
    assert p["share"] == pytest.approx(0.6)
