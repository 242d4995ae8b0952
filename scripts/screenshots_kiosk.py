"""Render every kiosk screen, in Chinese and in English, to PNG files: `python scripts/screenshots_kiosk.py DIR`.

No daemon is needed: the window is fed sample data (a catalogue, notices, a card read, answers) the way
the daemon would. Runs offscreen unless QT_QPA_PLATFORM says otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from edge.wire.api.kiosk import KioskCatalogue, KioskSettings
from hub.web.bulletin_demo import sample_bulletin
from kiosk.catalogue import catalogue_to_data
from kiosk.catalogue_default import DEFAULT_CATALOGUE
from ui.kiosk import ime
from ui.kiosk.window import KioskWindow

TODAY = date(2026, 5, 6)
NOTICES = [
    {
        "id": "f1",
        "kind": "anti_fraud",
        "title": {"zh": "警惕冒充公检法诈骗", "en": "Beware of fake police calls"},
        "body": {
            "zh": "公检法机关不会通过电话要求转账，更没有所谓“安全账户”。接到此类电话请立即挂断并拨打 110。",
            "en": "The police never ask you to transfer money by phone; there is no 'safe account'. Hang up "
            "and call 110.",
        },
    },
    {
        "id": "b1",
        "kind": "bulletin",
        "title": {"zh": "本周辖区警情通报", "en": "This week's incident bulletin"},
        "body": {
            "zh": "本周辖区共接报警情 42 起，同比下降 12%。电动车被盗 3 起，请锁好车辆。",
            "en": "42 incidents this week, down 12% on last year. 3 e-bike thefts: please lock your bike.",
        },
    },
]
CHECK_OUTCOME = {"zh": "民警已到现场调解，双方达成一致", "en": "Settled on the spot; both sides agreed"}
CARD = {
    "name": "张三丰",
    "id_number": "11010519491231002X",
    "gender": "male",
    "birth_date": "1949-12-31",
    "address": "北京市东城区景山前街4号",
    "card_type": "resident",
}


def shoot(window: KioskWindow, out: Path, name: str, *, settle_ms: int = 0) -> None:
    app = QApplication.instance()
    assert app is not None
    for _ in range(3):
        app.processEvents()
    if settle_ms:
        QTest.qWait(settle_ms)  # the keyboard's candidate bar slides its candidates in
    path = out / f"{name}.png"
    window.grab().save(str(path))
    print(path)


def render(window: KioskWindow, out: Path, lang: str) -> None:
    def set_lang() -> None:
        if window.session.lang != lang:
            window.toggle_lang()

    window.stack.setCurrentWidget(window.out_of_service)
    shoot(window, out, f"out_of_service_{lang}")
    window.set_notices(NOTICES)
    window.show_attract()
    shoot(window, out, f"attract_{lang}")
    window.start_session()
    set_lang()
    window.show_home()
    shoot(window, out, f"home_{lang}")
    window.toggle_elder()
    shoot(window, out, f"home_elder_{lang}")
    window.toggle_elder()
    window.choose("appt_id_card")
    window.card_read(CARD)
    assert window.form is not None
    window.form.select("phone")
    QApplication.processEvents()
    for d in "1380013":
        window.keyboard.press(d)
    shoot(window, out, f"form_booking_{lang}")
    window.choose("report_dispute")
    window.form.select("description")
    QApplication.processEvents()  # the panel shown, the window active again: then type
    for ch in "jiufen":
        window.keyboard.press(ch)
    shoot(window, out, f"form_report_pinyin_{lang}", settle_ms=800)
    window.submit_form()
    shoot(window, out, f"form_errors_{lang}")
    spec = DEFAULT_CATALOGUE.service
    booked = {"zh": "预约成功，请按时到窗口办理", "en": "Booked: please come to the counter on time"}
    window.show_result(
        {
            "kind": "appointment",
            "status": "booked",
            "ticket": "I0508-0900",
            "slot": "2026-05-08 09:00",
            "message": booked,
            "receipt_id": "r",
        },
        spec("appt_id_card"),
    )
    window.result.set_print_state("printed")
    shoot(window, out, f"result_booked_{lang}")
    window.show_result(
        {
            "kind": "report",
            "status": "queued",
            "ticket": "SZ-FT-0042-000123",
            "queued": True,
            "message": {
                "zh": "网络暂时中断：已在本站登记，恢复后自动提交",
                "en": "Network down: saved at this station and sent when the network returns",
            },
            "receipt_id": "r",
        },
        spec("report_dispute"),
    )
    window.result.set_print_state("printed")
    shoot(window, out, f"result_queued_{lang}")
    found = {"zh": "查询完成", "en": "Here is what we found"}
    window.show_result(
        {
            "kind": "lookup",
            "status": "found",
            "message": found,
            "items": [
                {
                    "date": "2026-03-02",
                    "place": "深南大道华强路口",
                    "what": {"zh": "闯红灯", "en": "Ran a red light"},
                    "points": 6,
                    "fine": 200,
                    "handled": False,
                }
            ],
        },
        spec("traffic_lookup"),
    )
    shoot(window, out, f"result_lookup_{lang}")
    window.show_result(
        {
            "kind": "ticket",
            "status": "issued",
            "ticket": "A023",
            "message": {"zh": "请留意叫号", "en": "Please wait for your number to be called"},
        },
        spec("queue_ticket"),
    )
    shoot(window, out, f"result_ticket_{lang}")
    window.bulletin = sample_bulletin()
    window.choose("patrol_checkin")
    for d in "4815":
        window.patrol.press(d)
    shoot(window, out, f"patrol_{lang}")
    checked_in = {"zh": "打卡成功：老张", "en": "Checked in: 老张"}
    window.show_result(
        {
            "kind": "patrol",
            "status": "checked_in",
            "ticket": "SZ-FT-0042-000124",
            "message": checked_in,
            "receipt_id": "r",
        },
        spec("patrol_checkin"),
    )
    window.result.set_print_state("printed")
    shoot(window, out, f"result_patrol_{lang}")
    window.choose("notices")
    shoot(window, out, f"notices_{lang}")
    window.choose("report_status")
    for d in "000123":
        window.keyboard.press(d)
    window.check_screen.show_status(
        {"ticket": "SZ-FT-0042-000123", "state": "resolved", "triage": "on_spot", "outcome": CHECK_OUTCOME[lang]}
    )
    shoot(window, out, f"check_report_{lang}")
    window.show_home()
    window.choose("emergency")
    shoot(window, out, f"emergency_confirm_{lang}")
    window.show_home()
    window.overlay.show_countdown(27)
    shoot(window, out, f"timeout_warning_{lang}")
    window.session.end()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("outdir", type=Path)
    p.add_argument("--size", default="1920x1080", help="WIDTHxHEIGHT")
    args = p.parse_args(argv)
    args.outdir.mkdir(parents=True, exist_ok=True)
    if QApplication.instance() is None:  # the input method is chosen before Qt starts (a test did it already)
        ime.prepare(Path(tempfile.mkdtemp(prefix="kiosk-shots-ime-")))
    app = QApplication.instance() or QApplication([])
    window = KioskWindow(None, today=TODAY)
    window.timer.stop()  # no idle ticks: each screen is shown as set up here (the countdown overlay too)
    window.load_catalogue(
        KioskCatalogue(
            catalogue=catalogue_to_data(DEFAULT_CATALOGUE),
            devices={},
            settings=KioskSettings(
                station="SZ-FT-0042",
                station_name="福田区深南路智慧警务站",
                id_reader=True,
                printer=True,
                idle_timeout=120,
                idle_warning=30,
            ),
        )
    )
    w, h = (int(v) for v in args.size.split("x"))
    window.resize(w, h)
    window.show()
    window.activateWindow()
    app.processEvents()  # the window is active (and the fields' keys reach them) from here on
    for lang in ("zh", "en"):
        render(window, args.outdir, lang)
    window.close()
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
