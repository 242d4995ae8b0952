""" "Check my report" in the kiosk domain: what a resident may type, the plain words for each state, and
the receipt of a report saying how to check it (its QR code holds the reference)."""

from __future__ import annotations

import pytest

from kiosk.catalogue import Text
from kiosk.catalogue_default import DEFAULT_CATALOGUE
from kiosk.progress import normalize_ticket, progress_text
from kiosk.receipts import CHECK_HINT, build_receipt, receipt_lines
from kiosk.requests import KioskResult, ticket_for


@pytest.mark.parametrize(
    ("typed", "ticket"),
    [
        ("000123", "000123"),
        (" 123 ", "123"),
        ("SZ-FT-0042-000123", "SZ-FT-0042-000123"),
        ("SZ FT 0042 000123", "SZ-FT-0042-000123"),  # spaces stand for the dashes
        ("PK:SZ-FT-0042-000123", "SZ-FT-0042-000123"),  # what a QR scanner types
        ("", None),
        ("abc", None),
        ("../etc/passwd", None),
        ("1" * 13, None),
    ],
)
def test_what_a_resident_types_becomes_a_reference_or_nothing(typed: str, ticket: str | None) -> None:
    assert normalize_ticket(typed) == ticket


def test_every_state_has_plain_words_and_the_outcome_only_when_closed() -> None:
    for state in ("new", "triaged", "assigned", "in_progress", "resolved", "referred"):
        headline, detail = progress_text({"state": state, "outcome": "已调解"})
        assert headline.zh and headline.en and detail.zh and detail.en
        assert ("已调解" in detail.zh) == (state in ("resolved", "referred"))
    headline, detail = progress_text({"state": "triaged", "triage": "to_station"})
    assert "警务站" in detail.zh and "police station" in detail.en
    assert progress_text({"state": "unknown-from-a-newer-central"})[0] == Text("已受理", "Received")


def test_a_reports_receipt_says_how_to_check_it_and_its_qr_holds_the_reference() -> None:
    service = DEFAULT_CATALOGUE.service("report_dispute")
    result = KioskResult(
        request_id="r",
        service=service.id,
        kind="report",
        status="submitted",
        message=Text("", ""),
        ticket=ticket_for("ST-1", 7),
    )
    doc = build_receipt(result, service, station="测试警务站", when="2026-05-06 10:00", fields={})
    assert doc.qr == "PK:ST-1-000007" and normalize_ticket(doc.qr) == "ST-1-000007"
    assert CHECK_HINT.zh in receipt_lines(doc, "zh")[-1] and CHECK_HINT.en in receipt_lines(doc, "en")[-1]
    queue = DEFAULT_CATALOGUE.service("queue_ticket")
    issued = KioskResult(
        request_id="r", service=queue.id, kind="ticket", status="issued", message=Text("", ""), ticket="A1"
    )
    other = build_receipt(
        issued,
        queue,
        station="测试警务站",
        when="2026-05-06 10:00",
        fields={},
    )
    assert CHECK_HINT.zh not in receipt_lines(other, "zh")[-1]
