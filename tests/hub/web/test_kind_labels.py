"""Central's alarms board names every kind of incident a station's engine raises, in both languages."""

from __future__ import annotations

from edge.alarms.model import KINDS
from hub.web.i18n import TEXT, translator


def test_every_incident_kind_has_a_label_in_both_languages() -> None:
    for kind in KINDS:
        assert kind in TEXT, f"hub/web/i18n.py has no label for the incident kind {kind!r}"
    assert translator("zh")("officer_call") == "呼叫值班民警"
    assert translator("en")("officer_call") == "officer call"
    assert translator("zh")("officer_call") != translator("zh")("panic")  # not shown as a school's alarm
