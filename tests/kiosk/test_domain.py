"""The kiosk's pure domain: catalogue, forms, sessions with a fake clock, notices, receipts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import msgspec
import pytest

from kiosk.catalogue import CatalogueError, Text, catalogue_from_data, catalogue_to_data, load_catalogue
from kiosk.catalogue_default import DEFAULT_CATALOGUE
from kiosk.forms import FormError, validate_form, validate_plate
from kiosk.notices import Notice, NoticeBoard, NoticeSet
from kiosk.receipts import build_receipt, receipt_lines
from kiosk.requests import KioskResult, ticket_for
from kiosk.session import CardIdentity, ResidentSession, SessionState
from kiosk.validation import ValidationError
from tests.support.clock import FakeClock

TODAY = date(2026, 5, 6)
ID = "11010519491231002X"


# ---- catalogue ----------------------------------------------------------------------------------
def test_default_catalogue_offers_every_service_kind() -> None:
    kinds = {s.kind for s in DEFAULT_CATALOGUE.services}
    assert kinds == {
        "report",
        "appointment",
        "lookup",
        "ticket",
        "notices",
        "call_officer",
        "emergency",
        "patrol",
        "report_status",
    }
    assert {s.category for s in DEFAULT_CATALOGUE.services if s.kind == "report"} == {"dispute", "hazard"}
    assert {s.category for s in DEFAULT_CATALOGUE.services if s.kind == "appointment"} == {"id_card", "household"}
    elder = {s.id for s in DEFAULT_CATALOGUE.for_elders()}
    assert "emergency" in elder
    assert "call_officer" in elder
    assert "appt_household" not in elder
    # round trip through data (what the daemon sends the touchscreen)
    assert catalogue_from_data(catalogue_to_data(DEFAULT_CATALOGUE)) == DEFAULT_CATALOGUE


def test_catalogue_subset_keeps_order_and_names_unknown_ids() -> None:
    sub = DEFAULT_CATALOGUE.only(["emergency", "queue_ticket"])
    assert sub.ids() == ["emergency", "queue_ticket"]
    with pytest.raises(CatalogueError, match="nope"):
        DEFAULT_CATALOGUE.only(["nope"])


def test_catalogue_file_errors_name_the_file_and_key(tmp_path: Path) -> None:
    good = tmp_path / "cat.toml"
    good.write_text('[[services]]\nid = "help"\nkind = "call_officer"\ntitle = {zh = "求助", en = "Help"}\n')
    assert load_catalogue(good).ids() == ["help"]
    bad = tmp_path / "bad.toml"
    bad.write_text('[[services]]\nid = "help"\nkind = "call_officer"\ntitel = {zh = "x", en = "y"}\n')
    with pytest.raises(CatalogueError, match=r"bad\.toml.*titel"):
        load_catalogue(bad)
    dup = tmp_path / "dup.json"
    dup.write_bytes(
        msgspec.json.encode(
            {
                "services": [
                    {"id": "a", "kind": "notices", "title": {"zh": "x", "en": "y"}},
                    {"id": "a", "kind": "notices", "title": {"zh": "x", "en": "y"}},
                ]
            }
        )
    )
    with pytest.raises(CatalogueError, match=r"services\[1\]\.id = 'a': used twice"):
        load_catalogue(dup)


# ---- forms --------------------------------------------------------------------------------------
def test_form_validation_normalises_and_reports_every_field() -> None:
    appt = DEFAULT_CATALOGUE.service("appt_id_card")
    ok = validate_form(
        appt,
        {
            "name": " 张三 ",
            "id_number": "11010519491231002x",
            "phone": "+86 138-0013-8000",
            "date": "2026-05-08",
            "period": "am",
        },
        today=TODAY,
    )
    assert ok == {"name": "张三", "id_number": ID, "phone": "13800138000", "date": "2026-05-08", "period": "am"}
    with pytest.raises(FormError) as err:
        validate_form(
            appt,
            {
                "name": "张三",
                "id_number": "360426199101010072",
                "phone": "12345",
                "date": "2026-05-06",
                "period": "night",
            },
            today=TODAY,
        )
    codes = {e.field: e.code for e in err.value.errors}
    assert codes == {"id_number": "id.check", "phone": "phone.length", "date": "date.too_early", "period": "choice"}
    for e in err.value.errors:  # never echo the value
        assert "360426" not in e.message_zh + e.message_en
        assert "12345" not in e.message_en


def test_required_optional_length_and_control_characters() -> None:
    hazard = DEFAULT_CATALOGUE.service("report_hazard")
    with pytest.raises(FormError) as err:
        validate_form(hazard, {"description": "  ", "location": "x" * 61}, today=TODAY)
    assert {e.field: e.code for e in err.value.errors} == {"description": "required", "location": "too_long"}
    ok = validate_form(hazard, {"description": "井盖\x1b@缺失", "location": "深南大道"}, today=TODAY)
    assert ok == {"description": "井盖@缺失", "location": "深南大道"}  # ESC dropped, phone optional


def test_plates() -> None:
    assert validate_plate("粤b 12345") == "粤B12345"
    assert validate_plate("粤BD12345") == "粤BD12345"  # new energy
    assert validate_plate("粤B1234学") == "粤B1234学"
    for bad in ("粤BI2345", "B12345", "粤B1234", "粤BO12345"):
        with pytest.raises(ValidationError):
            validate_plate(bad)


# ---- sessions -----------------------------------------------------------------------------------
def test_session_warns_then_wipes_everything() -> None:
    clock = FakeClock()
    s = ResidentSession(idle_timeout=90, warning=30, clock=clock)
    wiped: list[int] = []
    s.on_wipe(lambda: wiped.append(1))
    s.start()
    s.lang, s.elder = "en", True
    card = CardIdentity(name="张三", id_number=ID, gender="female", birth_date=date(1949, 12, 31), address="北京")
    filled = s.apply_card(card, {"name": "name", "id_number": "id_number", "home": "address"})
    assert filled == {"name": "张三", "id_number": ID, "home": "北京"}
    s.set_value("phone", "13800138000")
    clock.t += 59
    assert s.poll() is SessionState.ACTIVE
    clock.t += 1
    assert s.poll() is SessionState.WARNING
    assert s.seconds_left() == pytest.approx(30)
    s.touch()  # "continue"
    assert s.poll() is SessionState.ACTIVE
    clock.t += 89.9
    assert s.poll() is SessionState.WARNING
    assert s.holds_resident_data
    clock.t += 0.1
    assert s.poll() is SessionState.IDLE
    assert wiped == [1]
    assert not s.holds_resident_data
    assert s.values == {}
    assert s.card is None
    assert (s.lang, s.elder) == ("zh", False)


def test_session_needs_at_least_20_seconds_of_warning() -> None:
    with pytest.raises(ValueError, match="20"):
        ResidentSession(idle_timeout=60, warning=19, clock=FakeClock())
    with pytest.raises(ValueError, match="longer"):
        ResidentSession(idle_timeout=20, warning=20, clock=FakeClock())


def test_card_identity_repr_is_masked() -> None:
    text = repr(CardIdentity(name="张三丰", id_number=ID))
    assert "张三丰" not in text
    assert ID not in text
    assert "110105********002X" in text


# ---- notices ------------------------------------------------------------------------------------
def _notice(
    nid: str, kind: str = "anti_fraud", published: str = "2026-05-01T00:00:00.000Z", expires: str = ""
) -> Notice:
    return Notice(
        id=nid,
        kind=kind,  # type: ignore[arg-type]
        title=Text("标题", "Title"),
        body=Text("正文", "Body"),
        published=published,
        expires=expires,
    )


def test_notice_board_replaces_by_scope_and_ignores_older_sets() -> None:
    board = NoticeBoard()
    assert board.apply(
        NoticeSet(
            scope="all",
            issued_at="2026-05-02T00:00:00Z",
            notices=(_notice("b1", "bulletin"), _notice("f1"), _notice("old", expires="2026-05-03T00:00:00Z")),
        )
    )
    assert board.apply(
        NoticeSet(
            scope="ST-1", issued_at="2026-05-02T00:00:00Z", notices=(_notice("f2", published="2026-05-02T00:00:00Z"),)
        )
    )
    now = "2026-05-04T00:00:00.000Z"
    assert [n.id for n in board.current(now)] == ["f2", "f1", "b1"]
    assert not board.apply(NoticeSet(scope="all", issued_at="2026-05-01T00:00:00Z", notices=()))
    assert board.apply(NoticeSet(scope="all", issued_at="2026-05-03T00:00:00Z", notices=()))
    assert [n.id for n in board.current(now)] == ["f2"]
    again = NoticeBoard.from_data(board.to_data())
    assert [n.id for n in again.current(now)] == ["f2"]


# ---- receipts -----------------------------------------------------------------------------------
def test_receipt_masks_personal_data() -> None:
    appt = DEFAULT_CATALOGUE.service("appt_id_card")
    result = KioskResult(
        request_id="r1",
        service=appt.id,
        kind="appointment",
        status="booked",
        message=Text("", ""),
        ticket=ticket_for("ST-1", 7),
        slot="2026-05-08 09:00",
    )
    doc = build_receipt(
        result,
        appt,
        station="测试警务站",
        when="2026-05-06 10:00",
        fields={"name": "张三丰", "id_number": ID, "phone": "13800138000", "period": "am"},
    )
    text = "\n".join(receipt_lines(doc, "zh"))
    assert "受理号：ST-1-000007" in text
    assert "预约时间：2026-05-08 09:00" in text
    assert "张**" in text
    assert "110105********002X" in text
    assert "138****8000" in text
    assert ID not in text
    assert "13800138000" not in text
    assert "张三丰" not in text
    assert "时段：上午 9:00-12:00" in text
    assert "Reference: ST-1-000007" in "\n".join(receipt_lines(doc, "en"))
