"""Central's patrol roster and check-in projection on SQLite and PostgreSQL: ID numbers never stored,
the roster the stations get, counts per station and day and per member, stations with no visit."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import msgspec
import pytest

from edge.wire.patrol import Roster, code_hash, id_hash
from hub.web import patrol
from hub.web.console import prepare_database
from hub.web.db import Db
from hub.web.demo import seed_station
from hub.web.patrol_demo import store_checkin

ID_A = "11010519491231002X"
ID_B = "440304199001011234"


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    got = f"sqlite:///{tmp_path / 'hub.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_db_url")
    prepare_database(got)
    return str(got)


@pytest.fixture
def db(url: str) -> Iterator[Db]:
    handle = Db(url)
    try:
        yield handle
    finally:
        handle.close()


def test_members_are_kept_as_a_hash_and_a_masked_number(db: Db, url: str, tmp_path: Path) -> None:
    a, code = patrol.add_member(db, id_number=ID_A.lower(), display_name=" 老张 ", role="volunteer", by="ops")
    assert (a.display_name, a.id_masked, a.active, a.has_code) == ("老张", "110***********002X", True, True)
    assert len(code) == 8 and code.isdigit()
    salt = patrol.salt(db)
    assert a.id_hash == id_hash(salt, ID_A)
    b, no_code = patrol.add_member(
        db, id_number=ID_B, display_name="巡警小李", role="officer", by="ops", with_code=False
    )
    assert no_code == "" and not b.has_code
    for bad in ({"id_number": "12"}, {"display_name": ""}, {"display_name": "x" * 33}, {"role": "admin"}):
        args = {"id_number": ID_A, "display_name": "x", "role": "volunteer", **bad}
        with pytest.raises(patrol.PatrolError):
            patrol.add_member(
                db, id_number=args["id_number"], display_name=args["display_name"], role=args["role"], by="ops"
            )
    assert patrol.set_active(db, b.id_hash, False)
    assert not patrol.set_active(db, "0" * 64, False)
    roster = msgspec.convert(patrol.roster_args(db, 3), Roster)  # what the station takes
    assert roster.version == 3 and roster.salt == salt
    assert [m.display_name for m in roster.members] == ["老张"]  # the inactive member is not pushed
    assert roster.members[0].code_hash == code_hash(salt, code)
    # re-registering the same person: a new name and code, still one member
    again, code2 = patrol.add_member(db, id_number=ID_A, display_name="张师傅", role="volunteer", by="ops")
    assert again.id_hash == a.id_hash and code2 != code
    assert len(patrol.members(db)) == 2
    if url.startswith("sqlite"):  # nothing in the database file holds the ID numbers
        raw = b"".join(p.read_bytes() for p in tmp_path.glob("hub.db*"))
        assert ID_A.encode() not in raw and ID_B.encode() not in raw
        assert ID_A.encode("utf-16-le") not in raw
    else:
        dump = repr(db.rows("SELECT * FROM patrol_members")) + repr(db.rows("SELECT * FROM patrol_meta"))
        assert ID_A not in dump and ID_B not in dump


def test_check_ins_per_station_day_and_member_and_stations_without_a_visit(db: Db, url: str) -> None:
    for st, district in (("ST-A", "东城"), ("ST-B", "东城"), ("ST-C", "西城")):
        seed_station(url, st, name=f"{st} 站", district=district, incident=None)
    today = date.today()
    noon = time.mktime((today.year, today.month, today.day, 12, 0, 0, 0, 0, -1))
    h1, h2 = "a1" * 32, "b2" * 32
    store_checkin(url, "ST-A", 10, id_hash=h1, name="老张", role="volunteer", at=noon)
    store_checkin(url, "ST-A", 11, id_hash=h2, name="巡警小李", role="officer", at=noon + 60, method="code")
    store_checkin(url, "ST-A", 12, id_hash=h1, name="老张", role="volunteer", at=noon - 86400)
    store_checkin(url, "ST-C", 5, id_hash=h1, name="老张", role="volunteer", at=noon - 86400)
    store_checkin(url, "ST-C", 6, id_hash=h1, name="老张", role="volunteer", at=noon - 30 * 86400)  # long ago
    assert patrol.sync(db) == 5
    assert patrol.sync(db) == 0  # replaying is harmless
    week = (today - timedelta(days=6), today)
    s = patrol.summary(db, *week, stations=["ST-A", "ST-B", "ST-C"])
    yesterday = (today - timedelta(days=1)).isoformat()
    assert s.per_station_day == {("ST-A", today.isoformat()): 2, ("ST-A", yesterday): 1, ("ST-C", yesterday): 1}
    assert s.per_member[0] == (h1, "老张", "volunteer", 3, 2)
    assert s.per_member[1] == (h2, "巡警小李", "officer", 1, 1)
    assert s.unvisited == ["ST-B"]
    assert len(s.days) == 7 and s.days[-1] == today.isoformat()
    # a district officer's view: only their stations
    east = patrol.summary(db, *week, stations=["ST-A", "ST-B"])
    assert east.unvisited == ["ST-B"] and {c.station for c in east.checkins} == {"ST-A"}
    # only today: ST-C had no visit today
    assert patrol.summary(db, today, today, stations=["ST-A", "ST-B", "ST-C"]).unvisited == ["ST-B", "ST-C"]
    out = s.as_json()
    assert out["unvisited"] == ["ST-B"] and out["per_member"][0]["count"] == 3


def test_pushing_the_roster_queues_one_signed_broadcast_that_supersedes(db: Db) -> None:
    patrol.add_member(db, id_number=ID_A, display_name="老张", role="volunteer", by="ops")
    assert patrol.push_roster(db)[0] == 1
    version, row = patrol.push_roster(db)  # the first is still queued: the newer one replaces it
    assert version == 2
    queued = db.rows("SELECT id, target, name, retain, args FROM central_commands WHERE state='queued'")
    assert [(r[0], r[1], r[2], r[3]) for r in queued] == [(row, "all", "patrol.roster", 1)]
    roster = msgspec.json.decode(queued[0][4], type=Roster)
    assert roster.version == 2 and [m.display_name for m in roster.members] == ["老张"]
    assert ID_A not in queued[0][4]
    pushed = patrol.last_push(db)
    assert pushed is not None and pushed["version"] == 2 and pushed["members"] == 1
