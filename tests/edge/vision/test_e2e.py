"""Issue 5 end to end: central pushes a signed watch list; a station's camera (a generated video file, played
like a live stream by the camera's worker process) sees a watch-listed vehicle; exactly one
`vision.plate_hit` event with a snapshot is stored at the hub. A video without one produces none."""

from __future__ import annotations

import asyncio
import base64
import subprocess
from pathlib import Path

import pytest

from edge.api.client import EdgeClient
from edge.sim.broker import MosquittoProcess
from tests.support import central
from tests.support.commands import CentralKeys, central_keys
from tests.support.media import make_plate_video
from tests.support.procs import EdgeProc, HubProc, stored_events, wait_until

pytestmark = pytest.mark.slow


WANTED = "粤B8Z527"
OTHER = "浙C67D90"
CENTRAL = central_keys()
FORGER = central_keys()  # a stolen station box's idea of central's key


def make_video(path: Path, plates: list[str]) -> None:
    make_plate_video(path, plates)


def station_config(tmp: Path, station: str, broker: str, video: Path) -> Path:
    cfg = tmp / f"{station}.toml"
    cfg.write_text(f'''
[station]
id = "{station}"
[paths]
data_dir = "{tmp}/{station}-data"
socket = "{tmp}/{station}.sock"
[uplink]
url = "{broker}"
[commands]
public_key_file = "{CENTRAL.write(tmp)[1]}"
[vision]
enabled = true
[[vision.cameras]]
id = "gate-east"
name = "东门 East gate"
source = "{video}"
''')
    return cfg


def push_watch_list(broker: str, tmp: Path, *, keys: CentralKeys, version: int) -> subprocess.CompletedProcess[str]:
    key_file, _ = keys.write(tmp / f"keys-{id(keys)}")
    entries = [
        {"plate": WANTED, "reason": "被盗车辆 stolen", "priority": 1},
        {"plate": "京A0123警", "reason": "test", "priority": 3},
    ]
    return central.push_watch_list(broker, key_file, version=version, entries=entries)


def hits(db_url: str, station: str) -> list[dict[str, object]]:
    return [e for e in stored_events(db_url) if e["station"] == station and e["type"] == "vision.plate_hit"]


def types(db_url: str, station: str) -> list[object]:
    return [e["type"] for e in stored_events(db_url) if e["station"] == station]


def cameras(socket: Path) -> dict[str, object]:
    async def q() -> dict[str, object]:
        async with EdgeClient(socket) as c:
            res = await c.call("vision.cameras")
            assert isinstance(res, dict)
            return res

    return asyncio.run(q())


def status(socket: Path) -> dict[str, object]:
    async def q() -> dict[str, object]:
        async with EdgeClient(socket) as c:
            return dict(await c.call("status.get"))

    return asyncio.run(q())


def watch_list_version(socket: Path) -> int:
    async def q() -> int:
        async with EdgeClient(socket) as c:
            return int((await c.call("vision.watchlist"))["version"])

    return asyncio.run(q())


def test_watch_listed_vehicle_gives_one_hit_at_the_hub(tmp_path: Path, mosquitto: MosquittoProcess) -> None:
    with_hit = tmp_path / "with.mp4"
    without = tmp_path / "without.mp4"
    make_video(with_hit, [OTHER, WANTED])
    make_video(without, [OTHER])
    db = f"sqlite:///{tmp_path}/hub.db"
    hub = HubProc(tmp_path, broker_url=mosquitto.url, db_url=db)
    hub.start()
    # Central pushes the list to all stations, retained: stations get it when they connect.
    real = push_watch_list(mosquitto.url, tmp_path, keys=CENTRAL, version=6)
    assert real.returncode == 0, real.stderr
    a = EdgeProc(
        tmp_path,
        station="ST-VA",
        broker_url=mosquitto.url,
        extra=["--config", str(station_config(tmp_path, "ST-VA", mosquitto.url, with_hit))],
    )
    b = EdgeProc(
        tmp_path,
        station="ST-VB",
        broker_url=mosquitto.url,
        extra=["--config", str(station_config(tmp_path, "ST-VB", mosquitto.url, without))],
    )
    a.start()
    b.start()
    try:
        for st in (a, b):  # each camera plays its 6 s clip once, like a live stream, to the end
            wait_until(
                lambda st=st: cameras(st.socket)["cameras"][0]["state"] == "ended",  # type: ignore[index]
                timeout=180,
                interval=1.0,
                what=f"{st.name}'s clip to end",
            )
        wait_until(
            lambda: len(hits(db, "ST-VA")) >= 1 and "vision.watchlist_installed" in types(db, "ST-VB"),
            timeout=60,
            what="the events to reach the hub",
        )
        assert "vision.watchlist_installed" in types(db, "ST-VA")
        (hit,) = hits(db, "ST-VA")  # exactly one event for one vehicle
        data = hit["data"]
        assert isinstance(data, dict)
        assert data["listed_plate"] == WANTED
        assert data["camera"] == "gate-east"
        assert hit["priority"] == 2  # warning
        jpeg = base64.b64decode(str(data["snapshot_jpeg_b64"]))
        assert jpeg[:3] == b"\xff\xd8\xff" and len(jpeg) > 1000  # a real JPEG snapshot
        assert hits(db, "ST-VB") == []
        # A forged list (another key) is refused by the daemon's command gate, visibly, and changes nothing.
        forged = push_watch_list(mosquitto.url, tmp_path, keys=FORGER, version=7)
        assert forged.returncode == 0, forged.stderr
        wait_until(
            lambda: "refused a command from central (vision.watchlist): unknown_key" in str(status(a.socket)["faults"]),
            timeout=60,
            what="the forged watch list to be refused",
        )
        assert watch_list_version(a.socket) == 6
    finally:
        a.stop()
        b.stop()
        hub.stop()
