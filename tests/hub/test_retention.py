"""Retention at central (hub/retention.py, docs/privacy.md): what residents typed is purged from stored
reports and requests after the retention, the events themselves stay; dead letters are deleted."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import date
from pathlib import Path

import pytest

from edge.wire import messages as wire
from hub.retention import RetentionSettings, purge
from hub.store import open_store
from hub.store_base import DeadLetter, canonical_body
from hub.web.db import Db
from tests.support.procs import PYTHON

PHONE = "13912345678"
ID_NUMBER = "11010519491231002X"
DAY = 86400.0


def report(seq: int, type_: str = "kiosk.report") -> wire.Event:
    data: dict[str, object] = {
        "request_id": f"r{seq}",
        "service": "report_dispute",
        "category": "dispute",
        "fields": {"phone": PHONE, "id_number": ID_NUMBER, "description": "楼上噪音"},
    }
    if type_ == "kiosk.request":
        data["kind"] = "appointment"
    return wire.Event(
        id=wire.new_event_id(), station="ST-R", seq=seq, ts=wire.utc_now_iso(), type=type_,
        priority=wire.Priority.WARNING, data=data,
    )  # fmt: skip


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'hub.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_db_url")
    store = open_store(url)
    old = [report(1), report(2, "kiosk.request")]
    new = [report(3)]
    other = wire.Event(
        id=wire.new_event_id(), station="ST-R", seq=4, ts=wire.utc_now_iso(), type="station.note",
        priority=wire.Priority.INFO, data={"text": "not personal"},
    )  # fmt: skip
    events = [*old, *new, other]
    store.store_events(events, [wire.encode(e) for e in events])
    store.dead_letter(DeadLetter(time.time() - 40 * DAY, "police/v1/ST-R/event", "ST-R", 10, "bad", PHONE.encode()))
    store.dead_letter(DeadLetter(time.time(), "police/v1/ST-R/event", "ST-R", 10, "bad", b"recent"))
    from hub.kiosk_services import answer_request

    booked = answer_request(
        store, "ST-R", "appointment",
        {"request_id": "b1", "category": "id_card", "fields": {"id_number": ID_NUMBER, "date": "2026-05-08"}},
        today=date(2026, 5, 6),
    )  # fmt: skip
    assert booked["ok"] is True
    store.close()
    db = Db(url)
    db.run("UPDATE kiosk_bookings SET created_at = '2020-01-01T00:00:00Z'")
    db.run("UPDATE events SET received_at = ? WHERE seq IN (1, 2, 4)", (time.time() - 200 * DAY,))
    db.close()
    return url


def bodies(db: Db) -> dict[int, str]:
    """Each body as the hub wrote it (PostgreSQL prints JSONB with its own spacing: `canonical_body`)."""
    rows = db.rows("SELECT seq, CAST(body AS TEXT) FROM events ORDER BY seq")
    return {int(seq): canonical_body(str(body)).decode() for seq, body in rows}


def test_personal_data_past_the_retention_is_purged_and_the_events_stay(db_url: str) -> None:
    db = Db(db_url)
    try:
        dry = purge(db, RetentionSettings(), dry_run=True)
        assert (dry.events_scrubbed, dry.dead_letters_deleted) == (2, 1)
        assert PHONE in bodies(db)[1]  # a dry run changes nothing

        done = purge(db, RetentionSettings())
        assert (done.events_scrubbed, done.dead_letters_deleted) == (2, 1)
        after = bodies(db)
        assert len(after) == 4  # the events stay (statistics, bulletins, work-order history)
        for seq in (1, 2):
            assert PHONE not in after[seq] and ID_NUMBER not in after[seq] and "噪音" not in after[seq]
            assert '"category":"dispute"' in after[seq] and '"fields":{}' in after[seq]
        assert PHONE in after[3]  # inside the retention: kept for the follow-up
        assert "not personal" in after[4]  # not a personal type: untouched
        dead = db.rows("SELECT payload FROM dead_letters")
        assert [bytes(p) for (p,) in dead] == [b"recent"]

        assert done.bookings_scrubbed == 1
        assert [f for (f,) in db.rows("SELECT fields FROM kiosk_bookings")] == ["{}"]
        again = purge(db, RetentionSettings())
        assert (again.events_scrubbed, again.dead_letters_deleted) == (0, 0)  # idempotent
    finally:
        db.close()


def test_the_purge_command_and_a_shorter_retention(db_url: str) -> None:
    db = Db(db_url)
    db.run("UPDATE events SET received_at = ? WHERE seq = 3", (time.time() - 2 * DAY,))
    db.close()
    done = subprocess.run(
        [*PYTHON, "hub", "purge", "--db", db_url, "--personal-days", "1"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "purged: personal data of 3 events" in done.stdout and "1 dead letters" in done.stdout
    exported = subprocess.run([*PYTHON, "hub", "export", "--db", db_url], capture_output=True, text=True, timeout=60)
    assert exported.returncode == 0 and exported.stdout.count("\n") == 4
    assert PHONE not in exported.stdout and ID_NUMBER not in exported.stdout

    bad = subprocess.run(
        [*PYTHON, "hub", "purge", "--db", db_url, "--personal-days", "0"], capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2 and "must be more than 0" in bad.stderr


def test_each_run_reads_only_what_aged_past_the_retention_since_the_last(db_url: str) -> None:
    """The last run's cutoff is kept (hub_state), so a year of purged events is not read again every hour."""
    db = Db(db_url)
    try:
        assert purge(db, RetentionSettings()).events_scrubbed == 2
        # an event received before that cutoff is taken as purged (this one is put back by hand to show it)
        unpurged = report(1).data
        db.run(
            "UPDATE events SET body = ? WHERE seq = 1",
            (json.dumps({"v": 1, "type": "kiosk.report", "data": unpurged}, ensure_ascii=False),),
        )
        assert purge(db, RetentionSettings()).events_scrubbed == 0
        # seq 3 (received now) ages past the retention 181 days later: the next run purges it, and only it
        later = purge(db, RetentionSettings(), now=time.time() + 181 * DAY)
        assert later.events_scrubbed == 1
        assert PHONE not in bodies(db)[3] and PHONE in bodies(db)[1]
    finally:
        db.close()
