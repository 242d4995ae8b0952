"""Vehicle warnings: the `vision.plate_hit` events stations sent, projected into `console_plate_hits`.

A hit event carries the privacy-filtered scene and the plate crop as base64 JPEGs (edge/vision/events.py
`PlateHitData`: up to `snapshot_max_bytes`, 120 kB by default, and the crop under 40 kB), so the hub has the
images in the stored event itself. The projection keeps everything but the images (a page of 200 hits
reads no JPEG); an image is read from its event when a browser asks for it (`image`).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from hub.migrations import Part
from hub.web.db import Db

__all__ = ["PART", "HitView", "hits", "image", "sync"]

# Version 1: the tables as they shipped before versions were recorded. Never edit a shipped version:
# a change is a new entry at the end of PART (hub/migrations.py).
_V1: Final = """
CREATE TABLE IF NOT EXISTS console_plate_hits (
    station TEXT NOT NULL, seq BIGINT NOT NULL, event_id TEXT NOT NULL, seen_at DOUBLE PRECISION NOT NULL,
    received_at DOUBLE PRECISION NOT NULL, camera TEXT NOT NULL, camera_name TEXT NOT NULL, plate TEXT NOT NULL,
    listed_plate TEXT NOT NULL, reason TEXT NOT NULL, priority INTEGER NOT NULL, distance DOUBLE PRECISION NOT NULL,
    confidence DOUBLE PRECISION NOT NULL, kind TEXT NOT NULL, snapshot INTEGER NOT NULL, crop INTEGER NOT NULL,
    privacy TEXT NOT NULL, PRIMARY KEY (station, seq)
);
CREATE INDEX IF NOT EXISTS console_plate_hits_seen ON console_plate_hits (seen_at)
"""
PART: Final = Part("plate_hits", (_V1,))
TYPE: Final = "vision.plate_hit"
_CURSOR: Final = "plate_hits.received_at"
_LOOK_BACK_S: Final = 60.0  # a batch committed late by a second hub on the same PostgreSQL is not missed
_BATCH: Final = 200


@dataclass(frozen=True, slots=True)
class HitView:
    station: str
    seq: int
    seen_at: float
    camera: str
    camera_name: str
    plate: str  # as read
    listed_plate: str
    reason: str
    priority: int
    distance: float
    confidence: float
    kind: str
    snapshot: bool  # the event carries the scene
    crop: bool  # and the plate crop
    privacy: str
    station_name: str = ""
    district: str = ""

    @property
    def exact(self) -> bool:
        return self.distance == 0.0

    def as_json(self) -> dict[str, Any]:
        base = f"/warnings/{self.station}/{self.seq}"
        return {
            "station": self.station,
            "seq": self.seq,
            "district": self.district,
            "seen_at": self.seen_at,
            "camera": self.camera,
            "camera_name": self.camera_name,
            "plate": self.plate,
            "listed_plate": self.listed_plate,
            "reason": self.reason,
            "priority": self.priority,
            "distance": self.distance,
            "confidence": self.confidence,
            "kind": self.kind,
            "snapshot": f"{base}/snapshot.jpg" if self.snapshot else None,
            "crop": f"{base}/crop.jpg" if self.crop else None,
            "privacy": self.privacy,
        }


def _data(body: Any) -> dict[str, Any]:
    doc = json.loads(body) if isinstance(body, str | bytes) else body
    data = doc.get("data") if isinstance(doc, dict) else None
    return data if isinstance(data, dict) else {}


def _row(station: str, seq: int, received_at: float, event_id: str, d: dict[str, Any]) -> tuple[Any, ...]:
    return (
        station,
        int(seq),
        str(event_id),
        float(d.get("seen_at") or received_at),
        float(received_at),
        str(d.get("camera", "")),
        str(d.get("camera_name", "")),
        str(d.get("plate", "")),
        str(d.get("listed_plate", "")),
        str(d.get("reason", ""))[:300],
        int(d.get("list_priority", 5)),
        float(d.get("distance", 0.0)),
        float(d.get("confidence", 0.0)),
        str(d.get("kind", "")),
        1 if d.get("snapshot_jpeg_b64") else 0,
        1 if d.get("plate_jpeg_b64") else 0,
        str(d.get("privacy", "")),
    )


def sync(db: Db) -> int:
    """Project the hit events stored since the last call; returns how many were read (idempotent)."""
    got = db.one("SELECT value FROM console_meta WHERE name = ?", (_CURSOR,))
    since = float(got[0]) - _LOOK_BACK_S if got else 0.0
    read, newest = 0, since
    while True:
        rows = db.rows(
            "SELECT station, seq, received_at, id, body FROM events WHERE type = ? AND received_at > ?"
            " ORDER BY received_at, station, seq LIMIT ?",
            (TYPE, newest, _BATCH),
        )
        for station, seq, received_at, event_id, body in rows:
            try:
                row = _row(station, seq, received_at, event_id, _data(body))
            except (ValueError, TypeError):
                continue  # one malformed event never stops the page
            db.run(
                "INSERT INTO console_plate_hits VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (station, seq) DO NOTHING",
                row,
            )
        read += len(rows)
        if rows:
            newest = max(newest, float(rows[-1][2]))
        if len(rows) < _BATCH:
            break
    if newest > since:
        db.run(
            "INSERT INTO console_meta VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (_CURSOR, repr(newest)),
        )
    return read


_SELECT_HITS: Final = (
    "SELECT station, seq, seen_at, camera, camera_name, plate, listed_plate, reason, priority, distance,"
    " confidence, kind, snapshot, crop, privacy FROM console_plate_hits"
)


def hits(
    db: Db, *, stations: Iterable[str] | None = None, station: str = "", plate: str = "", limit: int = 200
) -> list[HitView]:
    """The latest hits, newest first. `stations`: only these (a district officer's); `plate`: a part of the
    plate as read or as listed (spaces and case ignored)."""
    where, params = [], []
    if stations is not None:
        allowed = sorted(set(stations))
        if not allowed:
            return []
        where.append(f"station IN ({', '.join('?' * len(allowed))})")
        params += allowed
    if station:
        where.append("station = ?")
        params.append(station)
    if plate:
        needle = "%" + plate.replace(" ", "").upper().replace("%", "").replace("_", "") + "%"
        where.append("(UPPER(plate) LIKE ? OR UPPER(listed_plate) LIKE ?)")
        params += [needle, needle]
    clause = f" WHERE {' AND '.join(where)}" if where else ""  # fixed fragments; every value is a parameter
    sql = _SELECT_HITS + clause + " ORDER BY seen_at DESC, station, seq DESC LIMIT ?"
    rows = db.rows(sql, (*params, limit))
    return [
        HitView(
            r[0],
            int(r[1]),
            float(r[2]),
            r[3],
            r[4],
            r[5],
            r[6],
            r[7],
            int(r[8]),
            float(r[9]),
            float(r[10]),
            r[11],
            bool(r[12]),
            bool(r[13]),
            r[14],
        )
        for r in rows
    ]


def image(db: Db, station: str, seq: int, which: str) -> bytes | None:
    """The scene (`snapshot`) or plate crop (`crop`) JPEG of one hit, or None."""
    key = {"snapshot": "snapshot_jpeg_b64", "crop": "plate_jpeg_b64"}.get(which)
    row = db.one("SELECT body FROM events WHERE station = ? AND seq = ? AND type = ?", (station, seq, TYPE))
    if key is None or row is None:
        return None
    try:
        jpeg = base64.b64decode(str(_data(row[0]).get(key, "")), validate=True)
    except (binascii.Error, ValueError):
        return None
    return jpeg if jpeg[:3] == b"\xff\xd8\xff" else None
