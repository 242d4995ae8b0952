"""The kiosk component in the real daemon, with the real hub and Mosquitto, the simulated ID card reader and
receipt printer on ptys: every service, receipts decoded from the printer's bytes, notices, offline."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from edge.api.client import ApiError
from edge.sim.broker import MosquittoProcess
from edge.wire import messages as wire
from tests.support.procs import stored_events, wait_until
from tests.support.station import (
    CENTRAL,
    FORGER,
    ID_NUMBER,
    Station,
    decode_escpos,
    notice,
    notice_command,
    publish_command,
    sample_card,
)

pytestmark = pytest.mark.slow


def next_weekday() -> str:
    d = date.today() + timedelta(days=1)
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d.isoformat()


@pytest.fixture
def station(tmp_path: Path, mosquitto: MosquittoProcess) -> Iterator[Station]:
    st = Station(tmp_path, mosquitto)
    try:
        yield st.start()
    finally:
        st.close()


def _print(st: Station, receipt_id: str, lang: str = "zh") -> list[str]:
    assert st.printer is not None
    st.printer.received.clear()
    assert st.call("kiosk.print", {"receipt_id": receipt_id, "lang": lang})["printed"] is True
    return decode_escpos(bytes(st.printer.received)).lines


def test_every_service_end_to_end(station: Station) -> None:
    st = station
    st.wait_linked()
    cat = st.call("kiosk.catalogue")
    assert cat["settings"]["idle_warning"] >= 20
    assert "emergency" in [s["id"] for s in cat["catalogue"]["services"]]

    # a card tap reaches the touchscreen as a notification (never stored, never logged)
    st.reader.place_card(sample_card())
    wait_until(lambda: st.notes_of("kiosk.card"), timeout=10, what="card notification")
    card = st.notes_of("kiosk.card")[0]
    assert (card["name"], card["id_number"], card["gender"]) == ("张三丰", ID_NUMBER, "male")

    # a report: a ticket at once, and a receipt whose bytes decode to the expected text
    rep = st.call(
        "kiosk.submit",
        {
            "request_id": "rep-1",
            "service": "report_dispute",
            "fields": {
                "description": "楼上装修噪音",
                "location": "景山前街4号",
                "name": "张三丰",
                "phone": "13800138000",
            },
            "from_card": True,
        },
    )
    assert rep["status"] == "submitted"
    assert rep["ticket"].startswith("ST-K1-")
    lines = _print(st, rep["receipt_id"])
    text = "\n".join(lines)
    assert lines[0] == "ST-K1"
    assert "纠纷报告" in lines[1]
    assert f"受理号：{rep['ticket']}" in lines
    assert "姓名：张**" in lines
    assert "手机号码：138****8000" in lines
    assert "13800138000" not in text
    assert "张三丰" not in text
    assert "楼上装修噪音" not in text  # the description stays off the receipt
    assert "请妥善保管本回执" in text
    # English receipt of the same request
    assert f"Reference: {rep['ticket']}" in _print(st, rep["receipt_id"], "en")

    # form errors come back per field, in both languages
    with pytest.raises(ApiError) as err:
        st.call(
            "kiosk.book",
            {
                "service": "appt_id_card",
                "fields": {
                    "name": "张三丰",
                    "id_number": "360426199101010072",
                    "phone": "13800138000",
                    "date": next_weekday(),
                    "period": "am",
                },
            },
        )
    assert err.value.data["fields"][0]["field"] == "id_number"
    assert "校验位" in err.value.data["fields"][0]["zh"]

    # a booking takes a slot at central
    fields = {"name": "张三丰", "id_number": ID_NUMBER, "phone": "13800138000", "date": next_weekday(), "period": "am"}
    b1 = st.call("kiosk.book", {"request_id": "b-1", "service": "appt_id_card", "fields": fields})
    again = st.call("kiosk.book", {"request_id": "b-1x", "service": "appt_id_card", "fields": fields})
    assert again["status"] == "failed"  # one open booking per person and service (issue 12)
    other = {**fields, "id_number": "440304198001011239"}
    b2 = st.call("kiosk.book", {"request_id": "b-2", "service": "appt_id_card", "fields": other})
    assert (b1["status"], b1["slot"]) == ("booked", f"{next_weekday()} 09:00")
    assert b2["slot"] == f"{next_weekday()} 09:30"
    assert f"预约时间：{b1['slot']}" in _print(st, b1["receipt_id"])

    # traffic lookup, queue ticket, call the officer, emergency
    look = st.call("kiosk.lookup", {"service": "traffic_lookup", "fields": {"plate": "粤b12345"}})
    assert look["status"] == "found"
    assert len(look["items"]) == 2
    t1 = st.call("kiosk.ticket", {"service": "queue_ticket", "fields": {"queue": "A"}})
    assert t1["ticket"] == "A001"
    assert st.call("kiosk.call_officer", {"service": "call_officer"})["status"] == "called"
    assert st.notes_of("kiosk.officer_called")
    assert st.call("kiosk.emergency", {"service": "emergency"})["status"] == "raised"

    wait_until(
        lambda: (
            {"kiosk.report", "kiosk.call_officer", "kiosk.emergency"} <= {e["type"] for e in stored_events(st.db_url)}
        ),
        timeout=20,
        what="kiosk events at the hub",
    )
    events = {e["type"]: e for e in stored_events(st.db_url)}
    assert events["kiosk.emergency"]["priority"] == 3
    assert events["kiosk.report"]["data"]["fields"]["phone"] == "13800138000"
    log = st.edge.log()
    assert ID_NUMBER not in log
    assert "13800138000" not in log
    assert "张三丰" not in log


def test_notices_must_be_signed(station: Station) -> None:
    st = station
    st.wait_linked()
    older = notice_command("all", [notice("older")])  # signed first: a lower counter
    publish_command(st.broker.url, "police/v1/all/cmd/kiosk.notices", notice_command("all", [notice("f1")]))
    wait_until(lambda: st.call("kiosk.notices")["notices"], timeout=10, what="the signed notice")
    own = "police/v1/ST-K1/cmd/kiosk.notices"
    args: dict[str, object] = {"scope": "ST-K1", "issued_at": wire.utc_now_iso(), "notices": [notice("bad")]}
    publish_command(st.broker.url, own, notice_command("ST-K1", [notice("forged")], keys=FORGER))
    publish_command(st.broker.url, own, notice_command("ST-K1", [notice("unsigned")], keys=None))
    publish_command(
        st.broker.url, own, CENTRAL.signer.command("kiosk.notices", args, targets=["ST-OTHER"], lifetime=600)
    )
    publish_command(
        st.broker.url,
        own,
        CENTRAL.signer.command("kiosk.notices", args, targets=["ST-K1"], lifetime=600, now=time.time() - 3600),
    )
    publish_command(st.broker.url, "police/v1/all/cmd/kiosk.notices", older)  # replayed (and now retained)
    for why in ("unknown_key", "unsigned", "wrong_target", "expired", "replayed"):
        wait_until(
            lambda why=why: "refused command kiosk.notices" in st.edge.log() and f": {why}" in st.edge.log(),
            timeout=15,
            what=f"a command refused as {why}",
        )
    assert [n["id"] for n in st.call("kiosk.notices")["notices"]] == ["f1"]
    # retained: a restarted daemon has them from its file, and refuses the replayed copy the broker keeps
    st.edge.stop()
    st.edge.start()
    st.connect()
    assert [n["id"] for n in st.call("kiosk.notices")["notices"]] == ["f1"]
    wait_until(lambda: st.edge.log().count(": replayed") >= 2, timeout=15, what="the replay refused after a restart")


def test_printer_fault_is_visible_and_answered(station: Station) -> None:
    st = station
    assert st.printer is not None
    st.printer.paper_out = True
    rep = st.call(
        "kiosk.submit", {"service": "report_hazard", "fields": {"description": "井盖缺失", "location": "路口"}}
    )
    with pytest.raises(ApiError) as err:
        st.call("kiosk.print", {"receipt_id": rep["receipt_id"]})
    assert "纸" in err.value.data["zh"]
    faults = [f["code"] for f in st.call("status.get")["faults"]]
    assert "device.printer" in faults
    st.printer.paper_out = False
    assert st.call("kiosk.print", {"receipt_id": rep["receipt_id"]})["printed"] is True
    assert "device.printer" not in [f["code"] for f in st.call("status.get")["faults"]]


def test_offline_requests_are_queued_and_answered_when_the_link_returns(
    tmp_path: Path, mosquitto: MosquittoProcess
) -> None:
    mosquitto.kill()
    st = Station(tmp_path, mosquitto)
    try:
        st.start(hub=False)
        day = next_weekday()
        fields = {"name": "张三丰", "id_number": ID_NUMBER, "phone": "13800138000", "date": day, "period": "pm"}
        res = st.call("kiosk.book", {"request_id": "off-1", "service": "appt_id_card", "fields": fields})
        assert res["status"] == "queued"
        assert res["queued"] is True
        lines = _print(st, res["receipt_id"])
        assert any("网络恢复后自动提交" in line for line in lines)
        rep = st.call(
            "kiosk.submit", {"service": "report_hazard", "fields": {"description": "电线裸露", "location": "x"}}
        )
        assert rep["status"] == "queued"
        assert st.call("kiosk.ticket", {"service": "queue_ticket", "fields": {"queue": "C"}})["ticket"] == "LC001"
        assert [p["request_id"] for p in st.call("kiosk.pending")["pending"]] == ["off-1"]

        mosquitto.start()
        st.hub.start()
        wait_until(
            lambda: {"kiosk.request", "kiosk.report", "kiosk.ticket"} <= {e["type"] for e in stored_events(st.db_url)},
            timeout=30,
            what="queued events at the hub",
        )
        wait_until(lambda: st.notes_of("kiosk.result"), timeout=30, what="central's answer to the queued booking")
        answer = st.notes_of("kiosk.result")[0]
        assert (answer["request_id"], answer["status"], answer["slot"]) == ("off-1", "booked", f"{day} 14:00")
        assert st.call("kiosk.pending")["pending"] == []
        # asking live again with the same request id gives the same slot, not a second one
        again = st.call("kiosk.book", {"request_id": "off-1", "service": "appt_id_card", "fields": fields})
        assert again["slot"] == f"{day} 14:00"
    finally:
        st.close()


def test_emergency_goes_through_the_alarm_engine_when_it_runs(tmp_path: Path, mosquitto: MosquittoProcess) -> None:
    st = Station(tmp_path, mosquitto, printer=False, extra=["--set", "alarms.enabled=true"])
    try:
        st.start(hub=False)
        assert "incidents.raise" in st.call("rpc.methods")
        assert st.call("kiosk.emergency", {"service": "emergency"})["status"] == "raised"
        incidents = st.call("incidents.list")["incidents"]
        assert len(incidents) == 1
        assert "kiosk" in str(incidents[0]).lower()
    finally:
        st.close()
