"""`police-kiosk demo`: a whole station on this machine, its devices simulated.

It starts a private Mosquitto on a free port, the central hub (SQLite), and the station's edge daemon
with every part enabled: the one-key alarm receiver with three simulated schools (SIA DC-09 link tests,
and a panic now and then), a Modbus I/O module simulator with a panic button and a siren, the kiosk's
ID-card reader and receipt printer on pty pairs, and a trickle of simulated events. On a machine with a
display it also opens the crew console and the resident touchscreen. The terminal shows what flows:
the station's link and outbox, events stored at the hub, and the open incidents.

Everything lives in one directory (default `./var/demo`, emptied at start) and stops with Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import webbrowser
from datetime import date
from pathlib import Path
from typing import Any

from edge.api.client import ApiError, EdgeClient
from edge.sim.broker import MosquittoProcess, free_port
from edge.sim.demo_station import SCHOOLS, STATION, print_status, station_toml
from edge.system.files import write_atomic
from edge.wire.api import incidents as api
from edge.wire.api.incidents import IncidentClose, IncidentDispatch, IncidentRef
from edge.wire.api.kiosk import KioskSubmit

__all__ = ["command"]

PY = [sys.executable, "-m", "police_kiosk"]
ROOT = Path(__file__).resolve().parents[2]  # the repository (edge/sim/demo.py)
GEN_MEDIA = ROOT / "scripts" / "gen_plate_media.py"
WATCHED = "粤B8Z527"
CONSOLE_USER = "demo"


class Demo:
    def __init__(self, work: Path, *, ui: bool, duration: float) -> None:
        self.work = work
        self.ui = ui
        self.duration = duration
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.broker = MosquittoProcess(work / "mosquitto")
        self.dc09_port = free_port()
        self.modbus_port = free_port()
        self.http_port = free_port()
        self.console_password = secrets.token_urlsafe(9)  # made for this run, printed for the person watching
        self.hub_db = f"sqlite:///{work}/hub.db"
        self.log_dir = work / "logs"
        self.modbus_stdin: Any = None

    def spawn(self, name: str, argv: list[str], *, stdin: bool = False) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            argv,
            stdout=log,
            stderr=log,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            start_new_session=True,
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
        )
        log.close()
        self.procs[name] = proc
        return proc

    async def run(self) -> int:
        from drivers.escpos.sim import PrinterSimulator
        from drivers.idcard.sim import IdCardReaderSimulator

        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.broker.start()
        print(f"broker     Mosquitto on {self.broker.url}")
        async with IdCardReaderSimulator() as reader, PrinterSimulator() as printer:
            video = await self._make_video()
            self._make_command_keys()
            config = self.work / "station.toml"
            config.write_text(
                station_toml(
                    self.work,
                    dc09_port=self.dc09_port,
                    modbus_port=self.modbus_port,
                    reader=reader.port,
                    printer=printer.port,
                    broker=self.broker.url,
                    video=video,
                )
            )
            modbus = self.spawn(
                "sim-modbus", [*PY, "sim", "modbus", "--port", f"socket://127.0.0.1:{self.modbus_port}"], stdin=True
            )
            self.modbus_stdin = modbus.stdin
            self._console_account()
            self.spawn(
                "hub",
                [
                    *PY,
                    "hub",
                    "--broker",
                    self.broker.url,
                    "--db",
                    self.hub_db,
                    "--signing-key-file",
                    str(self.work / "central.key"),
                    "--http",
                    f"127.0.0.1:{self.http_port}",
                ],
            )
            print(f"hub        central hub, database {self.hub_db}")
            url = f"http://127.0.0.1:{self.http_port}/"
            print(f"central    command console at {url} (sign in as {CONSOLE_USER} / {self.console_password})")
            if self.ui:
                webbrowser.open(url)
            if video is not None:
                await self._push_watch_list()
            self.spawn("edge", [*PY, "edge", "--config", str(config)])
            print(f"edge       station {STATION}, config {config}")
            socket = self.work / "edge.sock"
            await self._wait_for(socket)
            self.spawn(
                "sim-schools",
                [
                    *PY,
                    "sim",
                    "school",
                    "--port",
                    str(self.dc09_port),
                    "--account",
                    "1234",
                    "--schools",
                    str(len(SCHOOLS)),
                    "--count",
                    "0",
                    "--link-test-interval",
                    "10",
                    "--quiet",
                ],
            )
            print(f"schools    {len(SCHOOLS)} simulated school panels on DC-09 port {self.dc09_port}")
            if self.ui:
                self.spawn("console", [*PY, "console", "--socket", str(socket)])
                self.spawn("kiosk", [*PY, "kiosk", "--windowed", "--socket", str(socket)])
                print("ui         crew console and resident touchscreen opened")
            else:
                print("ui         no display: run the windows yourself on one with")
                print(f"           police-kiosk console --socket {socket}")
                print(f"           police-kiosk kiosk --windowed --socket {socket}")
            print(f"logs       {self.log_dir}\n")
            return await self._show(socket, reader)

    def _console_account(self) -> None:
        """A command-staff account for the demo's console, with a password made for this run."""
        res = subprocess.run(
            [*PY, "hub", "user", "add", CONSOLE_USER, "--role", "command", "--db", self.hub_db],
            input=self.console_password + "\n",
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if res.returncode != 0:
            print(f"central    could not make the console account: {res.stderr.strip()[-300:]}")

    async def _make_video(self) -> Path | None:
        """A street camera's view: a generated clip (three vehicles, one of them watch-listed), looped."""
        if not GEN_MEDIA.exists():
            print("camera     (no scripts/gen_plate_media.py here: the demo runs without a camera)")
            return None
        video = self.work / "street.mp4"
        gen = await asyncio.create_subprocess_exec(
            sys.executable,
            str(GEN_MEDIA),
            "video",
            str(video),
            "--seconds",
            "12",
            "--size",
            "small",
            "--seed",
            "7",
            "--plate",
            "浙C67D90",
            "--plate",
            WATCHED,
            "--plate",
            "京N5E3K2",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await gen.communicate()
        if gen.returncode != 0:
            print(f"camera     could not generate the demo clip: {err.decode(errors='replace')[-300:]}")
            return None
        print(f"camera     a street camera watching {video.name} (looped), one vehicle on the watch list")
        return video

    def _make_command_keys(self) -> None:
        """Central's Ed25519 command key pair for this demo (a fresh one each run)."""
        from edge.wire.commands import generate_key_pair

        private, public = generate_key_pair()
        write_atomic(self.work / "central.key", private, mode=0o600)
        write_atomic(self.work / "central.pub", public, mode=0o644)

    async def _push_watch_list(self) -> None:
        key_file = self.work / "central.key"
        entries = [{"plate": WATCHED, "reason": "被盗车辆 stolen vehicle", "priority": 1}]
        push = await asyncio.create_subprocess_exec(
            *PY,
            "hub",
            "command",
            "--broker",
            self.broker.url,
            "--key-file",
            str(key_file),
            "--station",
            "all",
            "--retain",
            "vision.watchlist",
            json.dumps({"version": 1, "entries": entries}, ensure_ascii=False),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await push.wait()
        print(f"central    pushed a signed watch list to all stations ({WATCHED}: stolen vehicle)")

    async def _wait_for(self, socket: Path) -> None:
        deadline = time.monotonic() + 30
        while not await asyncio.to_thread(socket.exists):
            edge = self.procs["edge"]
            if edge.poll() is not None:
                raise RuntimeError(f"the edge daemon exited ({edge.returncode}); see {self.log_dir}/edge.log")
            if time.monotonic() > deadline:
                raise RuntimeError("the edge daemon did not start in 30 s")
            await asyncio.sleep(0.1)

    async def _show(self, socket: Path, reader: Any) -> int:
        from drivers.idcard.reader import CardType, Gender, IdCardData

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        started = time.monotonic()
        tick = 0
        card = IdCardData(
            card_type=CardType.RESIDENT,
            name="张三",
            gender=Gender.MALE,
            birth_date=date(1949, 12, 31),
            id_number="11010519491231002X",
            valid_from=date(2015, 1, 1),
            valid_to=date(2035, 1, 1),
            ethnicity_code="01",
            address="北京市朝阳区示范街1号",
            issuing_authority="北京市公安局朝阳分局",
        )

        def on_notify(topic: str, params: dict[str, Any]) -> None:
            if topic == "vision.hits":
                hit = params.get("hit", {})
                print(
                    f"           camera {hit.get('camera')}: watch-listed vehicle {hit.get('plate')} "
                    f"({hit.get('reason')}), snapshot sent to central"
                )

        async with EdgeClient(socket, on_notify=on_notify) as client:
            await client.subscribe("incidents", "vision.hits")
            while not stop.is_set():
                if self.duration and time.monotonic() - started > self.duration:
                    break
                tick += 1
                if tick % 30 == 8:  # a school presses its one-key alarm
                    sim = await asyncio.create_subprocess_exec(
                        *PY,
                        "sim",
                        "school",
                        "--port",
                        str(self.dc09_port),
                        "--account",
                        "1235",
                        "--panic",
                        "--quiet",
                        stdout=asyncio.subprocess.DEVNULL,
                        stderr=asyncio.subprocess.DEVNULL,
                    )
                    await sim.wait()
                if tick % 30 == 14:  # a resident reports a safety hazard at the touchscreen
                    await self._kiosk_report(client)
                if not self.ui:
                    await self._crew_responds(client)
                if tick % 30 == 20 and self.modbus_stdin is not None:  # the lobby's panic button
                    with contextlib.suppress(OSError):
                        self.modbus_stdin.write(b"tap 0\n")
                        self.modbus_stdin.flush()
                if tick % 20 == 12:
                    reader.place_card(card)
                if tick % 20 == 16:
                    reader.remove_card()
                await print_status(client, self.work)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 2.0)
        return 0

    async def _kiosk_report(self, client: EdgeClient) -> None:
        try:
            from edge.wire.messages import new_event_id

            res = await client.kiosk_submit(
                KioskSubmit(
                    request_id=new_event_id(),
                    service="report_hazard",
                    fields={"location": "示范街与长安路口", "description": "井盖缺失，夜间有人险些跌倒"},
                )
            )
        except ApiError as exc:
            print(f"           kiosk report refused: {exc}")
            return
        print(f"           kiosk: a resident reported a hazard, ticket {res.ticket}, receipt printed")

    async def _crew_responds(self, client: EdgeClient) -> None:
        """Without a display nobody presses the console's buttons: the demo's crew answers by itself."""
        try:
            incidents = await client.incidents()
        except ApiError:
            return
        now = time.time()
        by = "演示值班员 demo officer"
        for inc in incidents:
            age = now - inc.raised_at
            step = {
                "raised": ("ack", 6),
                "acknowledged": ("dispatch", 10),
                "dispatched": ("arrive", 20),
                "on_scene": ("close", 30),
            }.get(inc.state)
            if step is None or age < step[1]:
                continue
            with contextlib.suppress(ApiError):
                if step[0] == "ack":
                    await client.request(api.INCIDENTS_ACK, IncidentRef(id=inc.id, by=by))
                elif step[0] == "dispatch":
                    await client.request(api.INCIDENTS_DISPATCH, IncidentDispatch(id=inc.id, by=by))
                elif step[0] == "arrive":
                    await client.request(api.INCIDENTS_ARRIVE, IncidentRef(id=inc.id, by=by))
                else:
                    await client.request(api.INCIDENTS_CLOSE, IncidentClose(id=inc.id, outcome="test", by=by))
                print(f"           crew: {step[0]} {inc.source.site} ({age:.0f} s after the alarm)")

    def stop(self) -> None:
        for name in ("kiosk", "console", "sim-schools", "edge", "hub", "sim-modbus"):
            proc = self.procs.get(name)
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self.broker.stop()


def command(name: str, argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="police-kiosk demo", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--dir", type=Path, default=Path("var/demo"), help="working directory (emptied at start)")
    p.add_argument("--duration", type=float, default=0.0, help="stop after this many seconds (0: until Ctrl-C)")
    p.add_argument(
        "--ui",
        choices=["auto", "yes", "no"],
        default="auto",
        help="open the crew console and touchscreen (auto: when a display is available)",
    )
    args = p.parse_args(argv)
    work = args.dir.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    has_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    ui = args.ui == "yes" or (args.ui == "auto" and has_display)
    demo = Demo(work, ui=ui, duration=args.duration)
    print("police-kiosk demo: a whole station on this machine (Ctrl-C to stop)\n")
    try:
        return asyncio.run(demo.run())
    except RuntimeError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    finally:
        demo.stop()
        print(
            f"\ndemo stopped; hub database kept at {work}/hub.db "
            f"(try: police-kiosk hub export --db {demo.hub_db} | tail)"
        )
