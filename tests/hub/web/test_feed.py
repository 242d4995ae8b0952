"""The feed on SQLite and PostgreSQL: stored `alarm.*` events become incidents (latest revision wins),
named stream events with resumable ids, and per-district visibility; a stored patrol check-in becomes a
`checkin` event for the tabs that may see its station."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hub.web import queries
from hub.web.accounts import Principal
from hub.web.console import prepare_database
from hub.web.db import DbPool
from hub.web.demo import incident_dict, seed_station, store_change
from hub.web.feed import Feed
from hub.web.patrol_demo import store_checkin


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'hub.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_db_url")
    prepare_database(url)
    return url


def test_incidents_follow_the_latest_revision_and_the_stream_resumes(db_url: str) -> None:
    now = time.time()
    inc = incident_dict("INC-1", now, site="阳光小学", site_en="Sunshine")
    seed_station(db_url, "ST-A", name="A", district="东城", incident=inc)
    seed_station(
        db_url,
        "ST-B",
        name="B",
        district="西城",
        incident=incident_dict("INC-2", now - 5, site="育才中学", site_en="Yucai"),
    )
    pool = DbPool(db_url)
    try:
        feed = Feed(pool, silent_s=90)
        feed.start_cursor()
        views = queries.incidents(pool.get(), places=feed.places)
        assert [v.id for v in views] == ["INC-1", "INC-2"]  # both unseen and raised: newest first
        assert all(v.unseen for v in views)
        acked = dict(
            inc,
            state="acknowledged",
            rev=2,
            acked_at=now + 1,
            timeline=[*inc["timeline"], {"at": now + 1, "what": "acknowledged", "by": "7701", "detail": ""}],
        )
        store_change(db_url, "ST-A", 2, acked, "acknowledged")
        store_change(db_url, "ST-A", 3, inc, "raised")  # an old revision re-sent: ignored
        events = feed._poll_alarms(publish=True)
        assert [(e.name, e.data["change"]) for e in events] == [("alarm", "acknowledged"), ("alarm", "raised")]
        assert feed._poll_alarms(publish=True) == []  # the look-back window sends nothing twice
        got = queries.incident(pool.get(), "ST-A", "INC-1", places=feed.places)
        assert got is not None and got.incident["state"] == "acknowledged" and got.district == "东城"
        queries.mark_seen(pool.get(), got, "boss")
        seen = queries.incident(pool.get(), "ST-A", "INC-1", places=feed.places)
        assert seen is not None and not seen.unseen
        boss = Principal(name="boss", role="command")
        west = Principal(name="w", role="district", district="西城")
        assert events[0].id is not None
        assert [e.data["change"] for e in feed.replay(events[0].id, boss)] == ["raised"]
        assert feed.replay(events[0].id, west) == []  # ST-A is in another district
        states = {v.station: v.state for v in queries.stations(pool.get(), silent_s=90)}
        assert states == {"ST-A": "online", "ST-B": "online"}
        assert {v.station: v.state for v in queries.stations(pool.get(), silent_s=90, now=time.time() + 100)} == {
            "ST-A": "silent",
            "ST-B": "silent",
        }
    finally:
        pool.close()


def test_live_events_reach_only_the_tabs_that_may_see_the_station(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    prepare_database(url)
    seed_station(url, "ST-A", name="A", district="东城", incident=None)
    pool = DbPool(url)
    try:
        feed = Feed(pool, silent_s=90)
        feed.start_cursor()
        boss = feed.subscribe(Principal(name="boss", role="command"))
        east = feed.subscribe(Principal(name="e", role="district", district="东城"))
        west = feed.subscribe(Principal(name="w", role="district", district="西城"))
        store_change(url, "ST-A", 1, incident_dict("INC-9", time.time(), site="s", site_en="s"), "raised")
        for event in feed._poll_alarms(publish=True):
            feed._publish(event)
        assert (boss.qsize(), east.qsize(), west.qsize()) == (1, 1, 0)
        feed.close_all()
        assert boss.get_nowait() is not None and boss.get_nowait() is None  # the stream is told to end
    finally:
        pool.close()


def test_a_check_in_reaches_only_the_tabs_that_may_see_its_station_once(db_url: str) -> None:
    seed_station(db_url, "ST-A", name="A", district="东城", incident=None)
    pool = DbPool(db_url)
    try:
        feed = Feed(pool, silent_s=90)
        feed.start_cursor()
        tabs = {
            "boss": feed.subscribe(Principal(name="boss", role="command")),
            "east": feed.subscribe(Principal(name="e", role="district", district="东城")),
            "west": feed.subscribe(Principal(name="w", role="district", district="西城")),
        }
        store_checkin(db_url, "ST-A", 7, id_hash="a" * 64, name="老张", role="volunteer", at=time.time())
        for event in feed._poll_alarms(publish=True):
            feed._publish(event)
        assert feed._poll_alarms(publish=True) == []  # the look-back window sends nothing twice
        got = {who: [e for _ in range(q.qsize()) if (e := q.get_nowait()) is not None] for who, q in tabs.items()}
        assert {who: [(e.name, e.data) for e in events] for who, events in got.items()} == {
            "boss": [("checkin", {"station": "ST-A", "seq": 7})],
            "east": [("checkin", {"station": "ST-A", "seq": 7})],
            "west": [],
        }
        assert "老张" not in got["boss"][0].sse()  # who checked in is for the page to show, not the stream
    finally:
        pool.close()


def test_a_lost_postgresql_connection_is_replaced(pg_db_url: str, postgres_url: str) -> None:
    import psycopg

    prepare_database(pg_db_url)
    pool = DbPool(pg_db_url)
    try:
        db = pool.get()
        row = db.one("SELECT pg_backend_pid()")
        assert row is not None
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (row[0],))
        with pytest.raises(psycopg.OperationalError):
            db.one("SELECT 1")
        assert pool.get().one("SELECT 1") == (1,)
    finally:
        pool.close()
