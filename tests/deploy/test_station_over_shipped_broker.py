"""A real station and a real hub over the shipped broker configuration, each presenting its certificate
from `police-kiosk pki`; central's command tool signs with Ed25519 and publishes with its own certificate
(issue 12): events reach the hub and are acked, a key rotation reaches the station, and a command signed
by the old key is refused afterwards."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec

from edge.api.client import EdgeClient, Submitted
from tests.support.commands import central_keys
from tests.support.procs import EdgeProc, HubProc, stored_events, wait_until
from tests.support.shipped_broker import ShippedBroker, make_shipped_pki

STATION = "ST-TLS"


def submit(edge: EdgeProc, count: int) -> None:
    async def go() -> None:
        async with EdgeClient(edge.socket, timeout=20) as c:
            results = await c.submit_many([("demo.tick", "info", {"n": i}) for i in range(count)])
        assert all(isinstance(r, Submitted) for r in results), results

    asyncio.run(go())


def status(edge: EdgeProc) -> dict[str, Any]:
    async def q() -> dict[str, Any]:
        async with EdgeClient(edge.socket, timeout=10) as c:
            return dict(msgspec.to_builtins(await c.status()))

    return asyncio.run(q())


def hub_tool(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "police_kiosk", "hub", *argv], capture_output=True, text=True, timeout=60
    )


def test_station_and_hub_over_the_shipped_broker_with_certificates_and_signed_commands(tmp_path: Path) -> None:
    pki = make_shipped_pki(tmp_path / "pki", stations=(STATION,), hubs=("hub", "hub-commands"))
    broker = ShippedBroker(tmp_path / "broker", pki)
    central, successor = central_keys(), central_keys()
    central_key, central_pub = central.write(tmp_path / "central")
    _, successor_pub = successor.write(tmp_path / "successor")
    db_url = f"sqlite:///{tmp_path}/hub.db"
    hub_cert, hub_key = pki.cert("hub")
    hub = HubProc(
        tmp_path,
        broker_url=broker.url,
        db_url=db_url,
        extra=[
            "--ca-file",
            str(pki.ca_file),
            "--cert-file",
            str(hub_cert),
            "--cert-key-file",
            str(hub_key),
            "--signing-key-file",
            str(central_key),
        ],
    )
    st_cert, st_key = pki.cert(STATION)
    edge = EdgeProc(
        tmp_path,
        station=STATION,
        broker_url=broker.url,
        extra=[
            "--set",
            f'uplink.ca_file="{pki.ca_file}"',
            "--set",
            f'uplink.cert_file="{st_cert}"',
            "--set",
            f'uplink.key_file="{st_key}"',
            "--set",
            f'commands.public_key_file="{central_pub}"',
            "--set",
            "uplink.reconnect_max=1",
        ],
    )
    tool_cert, tool_key = pki.cert("hub-commands")
    tls = [
        "--broker",
        broker.url,
        "--ca-file",
        str(pki.ca_file),
        "--cert-file",
        str(tool_cert),
        "--cert-key-file",
        str(tool_key),
        "--station",
        STATION,
        "--expires",
        "600",
    ]
    broker.start()
    try:
        hub.start()
        edge.start()
        submit(edge, 20)
        wait_until(
            lambda: len(stored_events(db_url)) >= 20 and status(edge)["outbox"]["depth"] == 0,
            timeout=60,
            what="the events to be stored at the hub and acked over mutual TLS",
        )
        assert status(edge)["link"]["state"] == "connected"

        done = hub_tool("rotate-key", "--key-file", str(central_key), *tls, str(successor_pub))
        assert done.returncode == 0, done.stderr
        trust = edge.data_dir / "command-trust.json"
        wait_until(
            lambda: trust.exists() and successor.public_pem.decode() in json.loads(trust.read_text())["public_key"],
            timeout=30,
            what="the station to take the rotated key",
        )
        assert trust.stat().st_mode & 0o777 == 0o600

        # the old key no longer commands this station
        old = hub_tool("command", "--key-file", str(central_key), *tls, "vision.watchlist", '{"version": 1}')
        assert old.returncode == 0, old.stderr
        wait_until(
            lambda: any(f["code"] == "commands" and "unknown_key" in f["message"] for f in status(edge)["faults"]),
            timeout=30,
            what="the old key's command refused",
        )
    finally:
        edge.stop()
        hub.stop()
        broker.stop()
