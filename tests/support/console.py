"""Contract objects as the daemon sends them to the crew console (incidents, vehicle hits)."""

from __future__ import annotations

import base64
from typing import Any

T0 = 1_700_000_000.0


def make_incident(iid: str = "inc-1", *, raised_at: float = T0, state: str = "raised", **fields: Any) -> dict[str, Any]:
    """A contract `Incident` object, as the daemon sends it."""
    inc: dict[str, Any] = {
        "id": iid,
        "state": state,
        "kind": "panic",
        "source": {
            "kind": "dc09",
            "site": "阳光小学",
            "site_en": "Sunshine Primary School",
            "point": "正门一键报警",
            "point_en": "Main gate button",
            "account": "1234",
            "zone": 1,
        },
        "raised_at": raised_at,
        "acked_at": None,
        "dispatched_at": None,
        "on_scene_at": None,
        "closed_at": None,
        "outcome": None,
        "presses": 1,
        "restored": False,
        "targets": {"respond_s": 60, "arrive_s": 180, "resolve_s": 300},
        "deadlines": {"respond": raised_at + 60, "arrive": raised_at + 180, "resolve": raised_at + 300},
        "missed": [],
        "escalations": 0,
        "rev": 1,
        "timeline": [{"at": raised_at, "what": "raised", "by": "", "detail": ""}],
    }
    inc.update(fields)
    return inc


def advanced(inc: dict[str, Any], state: str, at: float, **fields: Any) -> dict[str, Any]:
    key = {"acknowledged": "acked_at", "dispatched": "dispatched_at", "on_scene": "on_scene_at", "closed": "closed_at"}[
        state
    ]
    return {
        **inc,
        "state": state,
        key: at,
        "rev": inc["rev"] + 1,
        "timeline": [*inc["timeline"], {"at": at, "what": state}],
        **fields,
    }


JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 16


def make_hit(
    plate: str = "粤B8Z527",
    *,
    listed: str | None = None,
    at: float = T0,
    priority: int = 1,
    camera: str = "gate-east",
    **fields: Any,
) -> dict[str, Any]:
    """A `vision.hits` notification's `hit`, as the vision component sends it."""
    listed = plate if listed is None else listed
    return {
        "camera": camera,
        "camera_name": "东门 East gate",
        "plate": plate,
        "kind": "blue",
        "confidence": 0.9,
        "listed_plate": listed,
        "reason": "被盗车辆 stolen",
        "list_priority": priority,
        "list_version": 6,
        "distance": 0.0 if plate == listed else 0.5,
        "seen_at": at,
        "first_seen": at - 1.5,
        "box": [1.0, 2.0, 3.0, 4.0],
        "plate_jpeg_b64": base64.b64encode(JPEG).decode(),
        "privacy": "faces-blurred",
        **fields,
    }
