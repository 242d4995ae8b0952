"""Render the crew console in its main states, in Chinese and English, to PNG files (offscreen).

    .venv/bin/python scripts/screenshots_console.py /tmp/console-shots [--size 1920x1080]

States: idle, alarm (a new alarm takes over), several (a new alarm over two older incidents, a lost
school link, a device fault), timers (no alarm sounding; amber, red and met 1-3-5 targets),
disconnected, vehicle (a watch-listed vehicle hit, a near match with its plate crop, over an older noted
one; one camera down), vehicle-alarm (the same hit while an alarm takes over), manual (the manual alarm
form, its site missing), manual-confirm (its confirmation step, the siren switched on), history (closed
incidents with their outcomes and 1-3-5 response times; manual siren control refused), reports (the
residents' reports page, one order selected, one not synced yet), report-new (a report comes in during
an alarm: a count on the Reports button and a note, the alarm keeps the screen). The window is
fed through its view-model: no daemon is needed (the hits are synthetic `vision.hits` payloads).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRect, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QApplication

from ui.console.sound import AlarmSound
from ui.console.text import Language
from ui.console.window import TOPICS, ConsoleWindow
from ui.link import DaemonLink

NOW = time.time()


def incident(
    iid: str,
    *,
    ago: float,
    state: str = "raised",
    site: str = "阳光小学",
    site_en: str = "Sunshine Primary School",
    point: str = "正门一键报警",
    point_en: str = "Main gate button",
    kind: str = "panic",
    account: str = "1234",
    zone: int = 1,
    source_kind: str = "dc09",
    **times: float | None,
) -> dict[str, Any]:
    raised = NOW - ago
    stamps = {k: (None if v is None else NOW - v) for k, v in times.items()}
    timeline = [{"at": raised, "what": "raised", "by": "", "detail": ""}]
    for what, key in (("acknowledged", "acked_at"), ("dispatched", "dispatched_at"), ("on_scene", "on_scene_at")):
        if stamps.get(key) is not None:
            timeline.append({"at": stamps[key], "what": what, "by": "王警官", "detail": ""})
    return {
        "id": iid,
        "state": state,
        "kind": kind,
        "source": {
            "kind": source_kind,
            "site": site,
            "site_en": site_en,
            "point": point,
            "point_en": point_en,
            "account": account,
            "zone": zone,
        },
        "raised_at": raised,
        "acked_at": None,
        "dispatched_at": None,
        "on_scene_at": None,
        "closed_at": None,
        **stamps,
        "outcome": None,
        "presses": 1,
        "restored": False,
        "targets": {"respond_s": 60, "arrive_s": 180, "resolve_s": 300},
        "deadlines": {"respond": raised + 60, "arrive": raised + 180, "resolve": raised + 300},
        "missed": [],
        "escalations": 0,
        "timeline": timeline,
    }


LINKS = [
    {"account": f"{1230 + i}", "site": s, "state": "ok", "since": NOW - 3600}
    for i, s in enumerate(["阳光小学", "实验中学", "育才小学", "第二幼儿园", "朝阳中学", "光明小学"])
]


def state_idle(w: ConsoleWindow) -> None:
    w.board.load_links(LINKS)


def state_alarm(w: ConsoleWindow) -> None:
    w.board.load_links(LINKS)
    w.board.apply_incident("raised", incident("inc-1", ago=27))


def state_several(w: ConsoleWindow) -> None:
    state_alarm(w)
    w.board.apply_incident(
        "acknowledged",
        incident(
            "inc-0",
            ago=130,
            state="dispatched",
            site="实验中学",
            site_en="Experimental Middle School",
            point="东门报警按钮",
            point_en="East gate button",
            account="1231",
            zone=3,
            acked_at=118,
            dispatched_at=95,
        ),
    )
    w.board.apply_incident(
        "acknowledged",
        incident(
            "inc-00",
            ago=250,
            state="on_scene",
            site="育才小学",
            site_en="Yucai Primary School",
            point="传达室",
            point_en="Gatehouse",
            account="1232",
            zone=2,
            acked_at=230,
            dispatched_at=200,
            on_scene_at=40,
        ),
    )
    w.board.apply_link({"account": "1234", "site": "第二幼儿园", "state": "lost", "since": NOW - 95}, NOW)
    w.board.apply_fault({"code": "device.siren", "active": True, "message": "警号继电器模块无应答 (Modbus unit 2)"})
    w.board.select("inc-1")


def state_timers(w: ConsoleWindow) -> None:
    w.board.load_links(LINKS)
    w.board.apply_incident(
        "dispatched",
        incident(
            "inc-5",
            ago=200,
            state="dispatched",
            site="实验中学",
            site_en="Experimental Middle School",
            point="东门报警按钮",
            point_en="East gate button",
            account="1231",
            zone=3,
            acked_at=170,
            dispatched_at=150,
        ),
    )
    w.board.apply_incident("dispatched", incident("inc-6", ago=40, state="acknowledged", acked_at=30))
    w.board.tick(NOW)
    w.board.silence("inc-5")  # the crew has seen the missed arrival: red, but no longer sounding
    w.board.select("inc-5")


def plate_jpeg(text: str) -> str:
    """A synthetic plate crop (blue plate, white characters) as base64 JPEG, like the camera worker's."""
    import base64

    image = QImage(440, 140, QImage.Format.Format_RGB32)
    image.fill(QColor("#1d4fa8"))
    painter = QPainter(image)
    painter.setPen(QColor("#ffffff"))
    painter.drawRect(QRect(6, 6, 427, 127))
    painter.setFont(QFont(["Noto Sans CJK SC", "sans-serif"], 40, QFont.Weight.Bold))
    painter.drawText(image.rect(), Qt.AlignmentFlag.AlignCenter, f"{text[:2]}·{text[2:]}")
    painter.end()
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buf, "JPG", 85)  # type: ignore[call-overload]  # the stub says bytes, the binding wants str
    return base64.b64encode(bytes(data.data())).decode()


def hit(
    plate: str,
    listed: str,
    *,
    ago: float,
    reason: str,
    priority: int,
    camera: str = "gate-east",
    camera_name: str = "东门 East gate",
    image: bool = True,
) -> dict[str, Any]:
    return {
        "camera": camera,
        "camera_name": camera_name,
        "plate": plate,
        "kind": "blue",
        "confidence": 0.93,
        "listed_plate": listed,
        "reason": reason,
        "list_priority": priority,
        "list_version": 6,
        "distance": 0.0 if plate == listed else 0.5,
        "seen_at": NOW - ago,
        "first_seen": NOW - ago - 1.2,
        "box": [412.0, 388.0, 96.0, 30.0],
        "plate_jpeg_b64": plate_jpeg(plate) if image else "",
        "privacy": "faces-blurred",
    }


CAMERAS = {
    "cameras": [
        {"id": "gate-east", "name": "东门 East gate", "state": "connected", "detail": "", "hits": 2},
        {"id": "plaza", "name": "站前广场 Plaza", "state": "connected", "detail": "", "hits": 0},
        {"id": "bodycam-3", "name": "执法记录仪 3 Body cam 3", "state": "disconnected", "detail": "stream stalled"},
    ]
}


def state_vehicle(w: ConsoleWindow) -> None:
    w.board.load_links(LINKS)
    w.board.vision.load_cameras(CAMERAS)
    older = w.board.vision.apply_hit(
        hit(
            "浙C67D90",
            "浙C67D90",
            ago=1500,
            reason="肇事逃逸 hit and run",
            priority=3,
            camera="plaza",
            camera_name="站前广场 Plaza",
            image=False,
        )
    )
    w.board.vision.note(older)
    w.board.vision.apply_hit(hit("粤B8Z5Z7", "粤B8Z527", ago=4, reason="被盗车辆 stolen vehicle", priority=1))


def state_vehicle_alarm(w: ConsoleWindow) -> None:
    state_vehicle(w)
    w.board.apply_incident("raised", incident("inc-1", ago=12))


def closed(
    iid: str,
    *,
    ago: float,
    outcome: str,
    dispatched: float | None,
    on_scene: float | None,
    closed_after: float,
    missed: tuple[str, ...] = (),
    **where: Any,
) -> dict[str, Any]:
    """A closed incident raised `ago` seconds before NOW, its steps given as seconds after the alarm."""
    inc = incident(iid, ago=ago, state="closed", **where)
    raised = inc["raised_at"]
    for key, after in (
        ("acked_at", dispatched),
        ("dispatched_at", dispatched),
        ("on_scene_at", on_scene),
        ("closed_at", closed_after),
    ):
        inc[key] = None if after is None else raised + after
    inc.update(outcome=outcome, missed=list(missed), unit="巡逻一组" if dispatched is not None else "")
    return inc


def state_manual(w: ConsoleWindow) -> None:
    w.board.load_links(LINKS)
    w.board.open_manual("")
    w.board.manual.set_kind("panic")
    w.board.manual.review("", "北侧人行道")  # no site: the form says so


def state_manual_confirm(w: ConsoleWindow) -> None:
    w.board.load_links(LINKS)
    w.board.open_manual("阳光街警务站")
    w.board.manual.set_kind("panic")
    w.board.manual.review("阳光街警务站", "北侧人行道")
    w.board.siren.answered({"on": True})


def state_history(w: ConsoleWindow) -> None:
    w.board.load_links(LINKS)
    w.board.history.load(
        [
            closed("inc-h1", ago=900, outcome="real", dispatched=41, on_scene=150, closed_after=280),
            closed(
                "inc-h2",
                ago=5400,
                outcome="false_alarm",
                dispatched=75,
                on_scene=230,
                closed_after=410,
                missed=("respond", "arrive", "resolve"),
                site="实验中学",
                site_en="Experimental Middle School",
                point="东门报警按钮",
                point_en="East gate button",
                account="1231",
                zone=3,
            ),
            closed(
                "inc-h3",
                ago=86400 + 3600,
                outcome="test",
                dispatched=None,
                on_scene=None,
                closed_after=35,
                site="育才小学",
                site_en="Yucai Primary School",
                point="传达室",
                point_en="Gatehouse",
                kind="emergency",
            ),
        ]
    )
    w.board.siren.answered(None, -32009, "manual siren control is disabled in this station's configuration")
    w.board.history_open = True


def order(seq: int, *, ago: float, state: str = "new", category: str = "dispute", **fields: Any) -> dict[str, Any]:
    """A work order as the daemon sends it (`edge.wire.orders.WorkOrder`, the contact masked)."""
    created = datetime.fromtimestamp(NOW - ago, UTC).isoformat().replace("+00:00", "Z")
    history = [
        {
            "change_id": f"{seq}{i}" * 4,
            "action": a,
            "by": "王警官",
            "at": created,
            "origin": "station",
            "state": st,
            "detail": d,
        }
        for i, (a, st, d) in enumerate(fields.pop("steps", []))
    ]
    return {
        "ticket": f"SZ-FT-0042-{seq:06d}",
        "station": "SZ-FT-0042",
        "category": category,
        "service": f"report_{category}",
        "contact": "138****5678",
        "created_at": created,
        "updated_at": created,
        "state": state,
        "history": history,
        **fields,
    }


ORDERS = [
    order(131, ago=240, place="幸福路12号3栋", description="楼上深夜装修噪音，多次沟通无果"),
    order(
        128,
        ago=5400,
        state="assigned",
        triage="follow_up",
        officer="李警官",
        place="深南大道华强路口",
        description="两车剐蹭，双方对赔偿有争议",
        steps=[("triage", "triaged", "follow_up"), ("assign", "assigned", "李警官")],
    ),
    order(
        125,
        ago=9000,
        state="in_progress",
        category="hazard",
        triage="on_spot",
        officer="王警官",
        place="福华三路地铁口",
        description="井盖缺失，有行人绊倒风险",
        steps=[("triage", "triaged", "on_spot"), ("assign", "assigned", "王警官"), ("start", "in_progress", "")],
    ),
    order(
        117,
        ago=86400,
        state="resolved",
        triage="on_spot",
        officer="王警官",
        outcome="现场调解，双方达成一致",
        place="彩田路菜市场",
        description="摊位占道纠纷",
    ),
]


def state_reports(w: ConsoleWindow) -> None:
    w.board.load_links(LINKS)
    w.orders.board.load({"orders": [{"order": o, "pending": 2 if o["state"] == "in_progress" else 0} for o in ORDERS]})
    w.orders.board.open_page()
    w.orders.board.select("SZ-FT-0042-000125")


def state_report_new(w: ConsoleWindow) -> None:
    """A report comes in while an alarm is on screen: a count and a note, the alarm keeps the screen."""
    state_alarm(w)
    w.orders.board.load({"orders": [{"order": o} for o in ORDERS[1:]]})
    w.orders.notified("orders.new", {"order": ORDERS[0]})


def state_officer_call(w: ConsoleWindow) -> None:
    """A resident pressed "call the officer on duty" at the lobby kiosk: announced with where it stands."""
    w.board.load_links(LINKS)
    w.board.apply_incident(
        "raised",
        incident(
            "call-1",
            ago=35,
            kind="officer_call",
            source_kind="kiosk",
            site="福田区深南路智慧警务站",
            site_en="Shennan Road smart police station",
            point="一楼大厅自助终端",
            point_en="Kiosk, ground-floor lobby",
            account="",
            zone=0,
        ),
    )


def state_disconnected(w: ConsoleWindow) -> None:
    state_several(w)
    w.board.set_connected(False, NOW - 42)


STATES = {
    "idle": state_idle,
    "alarm": state_alarm,
    "several": state_several,
    "timers": state_timers,
    "disconnected": state_disconnected,
    "vehicle": state_vehicle,
    "vehicle-alarm": state_vehicle_alarm,
    "manual": state_manual,
    "manual-confirm": state_manual_confirm,
    "history": state_history,
    "reports": state_reports,
    "report-new": state_report_new,
    "officer-call": state_officer_call,
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path)
    p.add_argument("--size", default="1920x1080")
    p.add_argument("--only", nargs="*", default=None, help="render only these states")
    args = p.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(["screenshots"])
    assert isinstance(app, QApplication)
    app.setFont(QFont(["Noto Sans CJK SC", "Noto Sans", "sans-serif"]))
    sound = AlarmSound(use_qt=False, players=())  # offscreen: no audio, the "sound unavailable" note shows
    for lang in ("zh", "en"):
        language = Language(lang)
        for name, fill in STATES.items():
            if args.only and name not in args.only:
                continue
            link = DaemonLink(args.out / "no-daemon.sock", topics=TOPICS)  # never started
            window = ConsoleWindow(link, language=language, sound=sound, clock=lambda: NOW)
            window.board.set_connected(True, NOW)
            fill(window)
            window.resize(width, height)
            window.show()
            window.refresh()
            app.processEvents()
            path = args.out / f"console-{name}-{lang}.png"
            window.grab().save(str(path))
            print(path)
            window.close()
            window.deleteLater()
            app.processEvents()
        language.close()
    sound.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
