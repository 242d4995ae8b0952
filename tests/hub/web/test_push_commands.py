"""What the console sends stations - watch lists (`vision.watchlist`) and notice sets (`kiosk.notices`) - checked
with the station's own parsing code (edge.vision.watchlist, kiosk.notices), who may push where, and the
plate-hit projection behind the vehicle-warnings page. On SQLite and PostgreSQL (the console's tables)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from edge.vision.watchlist import WatchList, WatchListError
from edge.wire import messages as wire
from hub import outbound
from hub.web import notices, plate_hits, pushlog, watchlist
from hub.web.accounts import Principal
from hub.web.console import prepare_database
from hub.web.db import Db
from hub.web.demo import store_event
from hub.web.scopes import Scope, ScopeError, parse_scope
from kiosk.notices import NoticeBoard, NoticeSet
from tests.support.console import make_hit

DISTRICTS = {"ST-E1": "东城", "ST-E2": "东城", "ST-W1": "西城"}
BOSS = Principal("boss", "command")
EAST = Principal("east", "district", district="东城")
VIEWER = Principal("wall", "viewer")


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Db]:
    url = f"sqlite:///{tmp_path / 'hub.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_db_url")
    prepare_database(url)
    d = Db(url)
    yield d
    d.close()


def queued(db: Db, name: str) -> dict[str, dict[str, Any]]:
    """The latest queued args per target of command `name`."""
    out: dict[str, dict[str, Any]] = {}
    for row_id, target, args in db.rows(
        "SELECT id, target, args FROM central_commands WHERE name = ? AND state = 'queued' ORDER BY id", (name,)
    ):
        assert row_id
        out[target] = json.loads(args)
    return out


# ---- scopes and rights ---------------------------------------------------------------------------------
def test_scopes_parse_and_reach_the_stations_they_name() -> None:
    assert parse_scope("all").reach(DISTRICTS) == ["ST-E1", "ST-E2", "ST-W1"]
    assert parse_scope("district:东城").reach(DISTRICTS) == ["ST-E1", "ST-E2"]
    assert parse_scope("stations: ST-W1, ST-E2 ").reach(DISTRICTS) == ["ST-E2", "ST-W1"]
    assert str(parse_scope("stations:ST-W1,ST-E2")) == "stations:ST-E2,ST-W1"
    for bad in ("", "everywhere", "district:", "stations:", "stations:../x"):
        with pytest.raises(ScopeError):
            parse_scope(bad)


def test_a_district_officer_pushes_only_to_their_own_district() -> None:
    east, west, every = parse_scope("district:东城"), parse_scope("district:西城"), Scope("all")
    assert east.allowed(EAST, DISTRICTS)
    assert not west.allowed(EAST, DISTRICTS) and not every.allowed(EAST, DISTRICTS)
    assert parse_scope("stations:ST-E1,ST-E2").allowed(EAST, DISTRICTS)
    assert not parse_scope("stations:ST-E1,ST-W1").allowed(EAST, DISTRICTS)
    assert all(s.allowed(BOSS, DISTRICTS) for s in (east, west, every))
    assert not any(s.allowed(VIEWER, DISTRICTS) for s in (east, west, every))
    assert every.visible(EAST, DISTRICTS) and not west.visible(EAST, DISTRICTS)


# ---- the watch list ------------------------------------------------------------------------------------
def test_each_station_gets_the_whole_list_that_reaches_it_in_the_form_the_station_accepts(db: Db) -> None:
    watchlist.add(db, plate="粤B8Z527", reason="被盗车辆 stolen", priority=2, scope=Scope("all"), expires=0, by="boss")
    watchlist.add(
        db,
        plate="粤b 8z527",
        reason="涉案 wanted",
        priority=1,
        scope=parse_scope("district:东城"),
        expires=0,
        by="east",
    )
    watchlist.add(
        db,
        plate="京A0123警",
        reason="套牌 cloned",
        priority=4,
        scope=parse_scope("stations:ST-W1"),
        expires=0,
        by="boss",
    )
    watchlist.push(db, Scope("all"), DISTRICTS, by="boss")
    sent = queued(db, watchlist.COMMAND)
    assert set(sent) == {"ST-E1", "ST-E2", "ST-W1"}  # one command per station, never `all`
    lists = {st: WatchList.from_json(json.dumps(args).encode(), origin=st) for st, args in sent.items()}
    east = lists["ST-E1"]
    # listed for all and for the district: one entry (a station refuses a duplicate), the most urgent priority
    assert [(e.plate, e.priority) for e in east.entries] == [("粤B8Z527", 1)]
    assert "stolen" in east.entries[0].reason and "wanted" in east.entries[0].reason
    assert sorted(e.plate for e in lists["ST-W1"].entries) == ["京A0123警", "粤B8Z527"]
    assert len({wl.version for wl in lists.values()}) == 1 and east.version >= int(time.time()) - 5
    rows = outbound.rows(db)
    assert all(r.name == watchlist.COMMAND and r.state == "queued" for r in rows)


def test_a_plate_the_station_would_refuse_is_refused_by_the_console(db: Db) -> None:
    for plate in ("ABC123", "粤B8Z52", "粤I12345"):
        with pytest.raises(watchlist.WatchListError, match="not a valid plate"):
            watchlist.add(db, plate=plate, reason="x", priority=1, scope=Scope("all"), expires=0, by="boss")
        with pytest.raises(WatchListError):  # and the station's own loader agrees
            WatchList.build(version=1, entries=[{"plate": plate, "reason": "x", "priority": 1}])
    with pytest.raises(watchlist.WatchListError, match="reason"):
        watchlist.add(db, plate="粤B8Z527", reason=" ", priority=1, scope=Scope("all"), expires=0, by="boss")
    with pytest.raises(watchlist.WatchListError, match="past"):
        watchlist.add(db, plate="粤B8Z527", reason="x", priority=1, scope=Scope("all"), expires=time.time() - 1, by="b")
    watchlist.add(db, plate="粤B8Z527", reason="x", priority=1, scope=Scope("all"), expires=0, by="boss")
    with pytest.raises(watchlist.WatchListError, match="already"):
        watchlist.add(db, plate="粤B 8Z527", reason="y", priority=2, scope=Scope("all"), expires=0, by="boss")


def test_removing_or_expiring_an_entry_pushes_a_newer_list_without_it(db: Db) -> None:
    now = time.time()
    keep = watchlist.add(db, plate="粤B8Z527", reason="a", priority=1, scope=Scope("all"), expires=0, by="boss")
    soon = watchlist.add(db, plate="京A0123警", reason="b", priority=2, scope=Scope("all"), expires=now + 60, by="b")
    first = watchlist.push(db, Scope("all"), DISTRICTS, by="boss", now=now)
    v1 = queued(db, watchlist.COMMAND)["ST-E1"]["version"]
    assert watchlist.expire_due(db, now=now + 30) == []
    (gone,) = watchlist.expire_due(db, now=now + 61)
    assert gone.id == soon.id
    second = watchlist.push(db, Scope("all"), DISTRICTS, by="expiry", now=now + 61)
    latest = queued(db, watchlist.COMMAND)["ST-E1"]
    installed = WatchList.from_json(json.dumps(latest).encode())
    assert installed.version > int(str(v1)) and [e.plate for e in installed.entries] == [keep.plate]
    assert len(outbound.rows(db)) == 3  # the first push's queued rows were superseded per station
    assert watchlist.remove(db, keep.id, by="boss", now=now + 62) is not None
    assert watchlist.remove(db, keep.id, by="boss") is None
    assert [e.removed_by for e in watchlist.entries(db, removed=True)] == ["boss", "expired"]
    states = {p.id: p for p in pushlog.recent(db, watchlist.COMMAND)}
    assert states[second].state == "queued" and states[second].states == {"queued": 3}
    assert states[first].missing == 3  # its rows were replaced by the newer ones


# ---- notices -------------------------------------------------------------------------------------------
def draft(title: str, scope: str, *, expires: float = 0.0, now: float | None = None) -> notices.NoticeView:
    return notices.draft(
        title_zh=f"{title}（中）",
        title_en=title,
        body_zh="公检法机关不会电话要求转账。",
        body_en="Police never ask for money transfers by phone.",
        expires=expires,
        scope=parse_scope(scope),
        by="boss",
        now=time.time() if now is None else now,
    )


def test_notice_sets_are_what_the_kiosk_takes_and_replace_the_scope_they_are_for(db: Db) -> None:
    now = time.time()
    notices.add(db, draft("City-wide", "all", now=now - 10))
    notices.add(db, draft("East", "district:东城", expires=now + 3600, now=now - 5))
    notices.add(db, draft("Only W1", "stations:ST-W1", now=now - 3))
    notices.add(db, draft("Old", "district:东城", expires=now - 1, now=now - 100))  # expired: not sent
    for scope in ("all", "district:东城", "stations:ST-W1"):
        notices.push(db, parse_scope(scope), DISTRICTS, by="boss", now=now)
    sent = queued(db, notices.COMMAND)
    assert set(sent) == {"all", "ST-E1", "ST-E2", "ST-W1"}
    board = NoticeBoard()
    for target, args in sent.items():
        got = msgspec.convert(args, NoticeSet)  # exactly what edge.kiosk.notices.NoticeStore.apply takes
        assert got.scope == target and all(n.kind == "anti_fraud" for n in got.notices)
        if target in ("all", "ST-E1"):
            assert board.apply(got)
    assert [n.title.en for n in board.current(wire.utc_now_iso(now))] == ["East", "City-wide"]
    assert [n["title"]["en"] for n in sent["ST-W1"]["notices"]] == ["Only W1"]
    # withdrawing the district's notice sends its stations a newer set without it
    east = next(n for n in notices.notices(db) if n.title_en == "East")
    assert notices.withdraw(db, east.id, by="east") is not None
    notices.push(db, east.scope, DISTRICTS, by="east", now=now + 1)
    newer = msgspec.convert(queued(db, notices.COMMAND)["ST-E1"], NoticeSet)
    assert board.apply(newer) and [n.title.en for n in board.current(wire.utc_now_iso(now + 1))] == ["City-wide"]


@pytest.mark.parametrize(
    ("change", "message"),
    [({"title_en": " "}, "title_en"), ({"expires": 5.0}, "past"), ({"body_zh": "长" * 601}, "body_zh")],
)
def test_a_notice_needs_both_languages_and_a_future_expiry(change: dict[str, Any], message: str) -> None:
    fields: dict[str, Any] = {"title_zh": "提醒", "title_en": "t", "body_zh": "正文", "body_en": "text", "expires": 0.0}
    with pytest.raises(notices.NoticeError, match=message):
        notices.draft(**{**fields, **change}, scope=Scope("all"), by="b", now=10.0)


# ---- plate hits ----------------------------------------------------------------------------------------
def store_hit(url: str, station: str, seq: int, **fields: object) -> None:
    hit = make_hit(**fields)  # type: ignore[arg-type]
    hit["snapshot_jpeg_b64"] = base64.b64encode(b"\xff\xd8\xff\xe0scene").decode()
    store_event(url, station, seq, "vision.plate_hit", hit, priority=wire.Priority.WARNING)


def test_plate_hits_are_projected_once_newest_first_with_their_images(db: Db) -> None:
    store_hit(db.url, "ST-E1", 1, plate="粤B8Z527", at=1000.0)
    store_hit(db.url, "ST-W1", 1, plate="粤B8Z52B", listed="粤B8Z527", at=2000.0, plate_jpeg_b64="")
    assert plate_hits.sync(db) == 2
    plate_hits.sync(db)  # again: nothing twice
    got = plate_hits.hits(db)
    assert [(h.station, h.exact, h.crop) for h in got] == [("ST-W1", False, False), ("ST-E1", True, True)]
    assert [h.station for h in plate_hits.hits(db, stations=["ST-E1", "ST-E2"])] == ["ST-E1"]
    assert plate_hits.hits(db, stations=[]) == []
    assert [h.station for h in plate_hits.hits(db, plate="z52b")] == ["ST-W1"]
    assert len(plate_hits.hits(db, plate="8Z527")) == 2  # the listed plate matches too
    assert plate_hits.image(db, "ST-E1", 1, "snapshot") == b"\xff\xd8\xff\xe0scene"
    assert plate_hits.image(db, "ST-W1", 1, "crop") is None
    assert plate_hits.image(db, "ST-E1", 1, "other") is None
