"""Demo data of the vehicle-warnings, watch-list and notices pages, for scripts/screenshots_central.py.

Watch-list entries and notices are made and pushed through the console's own code (hub.web.watchlist,
hub.web.notices), so the outbox holds the real commands; the hub given `signing_key()` signs and publishes
them. Plate hits are stored as a station sends them, with a scene and a plate crop rendered by
scripts/gen_plate_media.py (a synthetic street, no people).
"""

from __future__ import annotations

import base64
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen_plate_media as gen

from edge.wire import messages as wire
from edge.wire.commands import generate_key_pair
from hub.web import notices, watchlist
from hub.web.db import Db
from hub.web.demo import store_event
from hub.web.scopes import parse_scope

__all__ = ["fill_notice_form", "seed_push_pages", "signing_key"]

DISTRICTS = {
    "SZ-FT-0042": "福田",
    "SZ-FT-0051": "福田",
    "SZ-LH-0007": "罗湖",
    "SZ-NS-0113": "南山",
    "SZ-NS-0120": "南山",
}


def signing_key(directory: Path) -> Path:
    """A throwaway central key for the screenshot hub (so its pushes are published, not left queued)."""
    private, _ = generate_key_pair()
    path = directory / "central.key"
    path.write_bytes(private)
    path.chmod(0o600)
    return path


def _jpeg(img: Any, quality: int = 80) -> str:
    ok, data = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return base64.b64encode(data.tobytes()).decode()


def _hit(plate: str, read: str, seed: int, colour: tuple[int, int, int]) -> dict[str, str]:
    rng = np.random.default_rng(seed)
    scene = gen.street_background(640, 360, rng)
    plate_img = gen.PlateRenderer().render(plate, "blue")
    at = gen.Placement(cx=330.0, cy=260.0, plate_w=110.0, skew=np.zeros((4, 2), np.float32))
    box = gen.draw_vehicle(scene, plate_img, at, colour)
    x, y, w, h = (int(v) for v in box)
    crop = scene[max(0, y - 4) : y + h + 4, max(0, x - 6) : x + w + 6]
    crop = cv2.resize(crop, (crop.shape[1] * 2, crop.shape[0] * 2), interpolation=cv2.INTER_CUBIC)
    return {"snapshot_jpeg_b64": _jpeg(scene), "plate_jpeg_b64": _jpeg(crop, 90), "box": box, "read": read}


def _store_hit(
    db_url: str, station: str, seq: int, at: float, *, plate: str, read: str, reason: str, seed: int
) -> None:
    images = _hit(plate, read, seed, (40, 40, 160) if seed % 2 else (150, 150, 150))
    data = {
        "camera": "gate-east",
        "camera_name": "东门 East gate",
        "plate": read,
        "kind": "blue",
        "confidence": 0.94 if read == plate else 0.71,
        "listed_plate": plate,
        "reason": reason,
        "list_priority": 1,
        "list_version": int(at),
        "distance": 0.0 if read == plate else 0.5,
        "seen_at": at,
        "first_seen": at - 1.4,
        "box": images["box"],
        "snapshot_jpeg_b64": images["snapshot_jpeg_b64"],
        "plate_jpeg_b64": images["plate_jpeg_b64"],
        "privacy": "faces-blurred",
    }
    store_event(db_url, station, seq, "vision.plate_hit", data, priority=wire.Priority.WARNING, at=at)


def seed_push_pages(db_url: str) -> None:
    now = time.time()
    db = Db(db_url)
    try:
        for plate, reason, prio, scope, days, by in (
            ("粤B8Z527", "被盗车辆 stolen vehicle", 1, "all", 0, "zhang.wei"),
            ("粤B6D2Q8", "肇事逃逸 hit and run", 2, "district:福田", 14, "li.na"),
            ("京A0123警", "套牌嫌疑 suspected cloned plate", 3, "stations:SZ-LH-0007", 3, "zhang.wei"),
        ):
            entry = watchlist.add(
                db,
                plate=plate,
                reason=reason,
                priority=prio,
                scope=parse_scope(scope),
                expires=now + days * 86400 if days else 0,
                by=by,
            )
            watchlist.push(db, entry.scope, DISTRICTS, by=by)
        for title, scope, days in (
            (("警惕冒充公检法诈骗", "Beware of fake police calls"), "all", 30),
            (("春节前警惕“退款客服”", "Before the holiday: fake refund agents"), "district:福田", 7),
        ):
            note = notices.draft(
                title_zh=title[0],
                title_en=title[1],
                body_zh="公检法机关不会通过电话要求转账，也不存在“安全账户”。接到此类电话请挂断并拨打 110。",
                body_en="The police never ask for a transfer by phone; there is no 'safe account'. Hang up, call 110.",
                expires=now + days * 86400,
                scope=parse_scope(scope),
                by="zhang.wei",
                now=now,
            )
            notices.add(db, note)
            notices.push(db, note.scope, DISTRICTS, by="zhang.wei")
    finally:
        db.close()
    _store_hit(
        db_url, "SZ-FT-0042", 500, now - 95, plate="粤B8Z527", read="粤B8Z527", reason="被盗车辆 stolen vehicle", seed=3
    )
    _store_hit(
        db_url, "SZ-FT-0051", 500, now - 1800, plate="粤B6D2Q8", read="粤B6D208", reason="肇事逃逸 hit and run", seed=8
    )


def fill_notice_form(page: Any) -> None:
    """Write a notice on the notices page so that its preview shows."""
    page.fill("#n-title-zh", "警惕“屏幕共享”诈骗")
    page.fill("#n-title-en", "Beware of screen-sharing scams")
    page.fill("#n-body-zh", "任何自称客服、要求您开启屏幕共享或下载会议软件的，都是诈骗。")
    page.fill("#n-body-en", "Anyone calling as customer service who asks you to share your screen is a fraudster.")
    page.wait_for_selector(".kiosk-previews")
