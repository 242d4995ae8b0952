"""Roles and limits on the local API, on real Unix sockets with the kernel's peer credentials.

Every test process is one uid, so each role is reached by mapping this uid to it in the `[api]` mapping
(kiosk and crew lists are checked before the admin rule), exactly as a station maps its users.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from edge.alarms.component import AlarmComponent
from edge.api.access import PeerCred, RoleMap
from edge.api.client import ApiError, EdgeClient
from edge.api.server import MAX_DEPTH, ApiServer, Connection
from edge.config.alarms import AlarmsSection
from edge.config.station import ConfigError, parse_config, referenced_file_problems
from edge.daemon.core import EdgeDaemon
from edge.kiosk.component import KioskComponent
from edge.wire.api.base import ADMIN_ONLY, Empty, Method, Role
from edge.wire.api.core import MAX_TOPICS
from edge.wire.api.methods import ALL_METHODS, BY_NAME
from edge.wire.errors import FORBIDDEN, INVALID_PARAMS, INVALID_REQUEST

UID = os.getuid()
K, C, A = Role.KIOSK, Role.CREW, Role.ADMIN

#: Who may call what, written out here on purpose: widening a method's roles must change this table.
EXPECTED: dict[str, set[Role]] = {
    "events.submit": {A},
    "status.get": {C, A},
    "notify.subscribe": {K, C, A},
    "rpc.methods": {K, C, A},
    "hub.call": {A},
    "crew.login": {C, A},
    "crew.logout": {C, A},
    **{f"incidents.{m}": {C, A} for m in ("list", "get", "ack", "dispatch", "arrive", "close", "raise")},
    "alarms.links": {C, A},
    "alarms.siren": {C, A},
    **{f"orders.{m}": {C, A} for m in ("list", "get", "change")},
    "orders.status": {K, A},
    "vision.cameras": {C, A},
    "vision.watchlist": {C, A},
    **{
        f"kiosk.{m}": {K, A}
        for m in (
            "catalogue",
            "submit",
            "book",
            "lookup",
            "ticket",
            "call_officer",
            "emergency",
            "print",
            "notices",
            "pending",
            "session.end",
            "patrol.checkin",
            "bulletin",
        )
    },
}


def role_map(role: Role, **kw: Any) -> RoleMap:
    if role is Role.KIOSK:
        return RoleMap(kiosk_users=[UID], **kw)
    if role is Role.CREW:
        return RoleMap(crew_users=[UID], **kw)
    return RoleMap(**kw)


async def rpc(path: Path, *lines: bytes, expect: int = 1) -> list[Any]:
    reader, writer = await asyncio.open_unix_connection(str(path), limit=8 * 1024 * 1024)
    try:
        for line in lines:
            writer.write(line)
        await writer.drain()
        return [json.loads(await asyncio.wait_for(reader.readline(), 10)) for _ in range(expect)]
    finally:
        writer.close()
        await writer.wait_closed()


def req(method: str, params: Any = None, rid: int = 1) -> bytes:
    msg: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not None:
        msg["params"] = params
    return json.dumps(msg).encode() + b"\n"


def test_the_contract_declares_the_expected_roles() -> None:
    assert {m.name: set(m.roles) for m in ALL_METHODS} == EXPECTED
    assert all(Role.ADMIN in m.roles for m in ALL_METHODS)


@pytest.mark.parametrize("role", list(Role))
async def test_every_method_refuses_the_roles_it_should(tmp_path: Path, role: Role) -> None:
    server = ApiServer(tmp_path / "api.sock", roles=role_map(role))
    reached: list[str] = []

    def recorder(name: str) -> Any:
        async def handler(params: Any, conn: Connection) -> dict[str, Any]:
            reached.append(name)
            return {}

        return handler

    for m in ALL_METHODS:
        if m.name not in server.methods:
            server.register(m, recorder(m.name))
    await server.start()
    try:
        lines = [req(m.name, {}, rid=i) for i, m in enumerate(ALL_METHODS)]
        answers = {a["id"]: a for a in await rpc(server.path, *lines, expect=len(lines))}
    finally:
        await server.close()
    for i, m in enumerate(ALL_METHODS):
        code = answers[i].get("error", {}).get("code")
        if role in EXPECTED[m.name]:
            assert code != FORBIDDEN, f"{m.name} refused the {role} role: {answers[i]}"
        else:
            assert code == FORBIDDEN, f"{m.name} let the {role} role in: {answers[i]}"
            assert m.name not in reached


async def test_the_daemon_registers_the_contracts_methods_only(tmp_path: Path) -> None:
    cfg = parse_config(
        {
            "station": {"id": "ST-R"},
            "paths": {"data_dir": str(tmp_path / "d")},
            "uplink": {"url": "mqtt://127.0.0.1:9"},
            "kiosk": {"enabled": True},
            "outbox": {"reserve_bytes": 0, "disk_low_bytes": 0},
        }
    )
    alarms = AlarmComponent(AlarmsSection.model_validate({"enabled": True, "dc09": None}))
    daemon = EdgeDaemon(cfg, components=[alarms, KioskComponent(cfg.kiosk)])
    await daemon.start()
    try:
        declared = daemon.api.declared()
        assert declared and all(BY_NAME.get(m.name) is m for m in declared)
        async with EdgeClient(daemon.api.path) as c:  # admin: this uid is the daemon's own
            assert set(await c.methods()) == {m.name for m in declared}
    finally:
        await daemon.stop()


async def test_a_user_without_a_role_is_answered_and_disconnected(tmp_path: Path) -> None:
    class Nobody(RoleMap):
        def role_of(self, peer: PeerCred | None) -> Role | None:
            assert peer is not None and peer.uid == UID and peer.pid == os.getpid()  # the kernel's record
            return None

    server = ApiServer(tmp_path / "api.sock", roles=Nobody())
    await server.start()
    try:
        [answer] = await rpc(server.path, req("rpc.methods"))
    finally:
        await server.close()
    assert answer["error"]["code"] == FORBIDDEN and f"uid {UID}" in answer["error"]["message"]


def test_role_mapping_order_and_unknown_users() -> None:
    roles = RoleMap(kiosk_users=[1001], crew_users=[1002], crew_groups=[2000], own_uid=999)
    peer = lambda uid, gid=100: PeerCred(pid=1, uid=uid, gid=gid)  # noqa: E731
    assert roles.role_of(peer(1001)) is Role.KIOSK
    assert roles.role_of(peer(1002)) is Role.CREW
    assert roles.role_of(peer(1003, 2000)) is Role.CREW
    assert roles.role_of(peer(999)) is Role.ADMIN and roles.role_of(peer(0)) is Role.ADMIN
    assert roles.role_of(peer(1004)) is None and roles.role_of(None) is None


def test_the_api_section_resolves_names_and_reports_unknown_ones() -> None:
    good = parse_config({"station": {"id": "ST-R"}, "api": {"kiosk_users": ["root", 4321], "crew_groups": ["root"]}})
    assert good.api.ids() == {"kiosk_users": [0, 4321], "crew_users": [], "crew_groups": [0], "admin_users": []}
    cfg = parse_config({"station": {"id": "ST-R"}, "api": {"crew_users": ["no-such-user-here"]}})
    with pytest.raises(ValueError, match="no such user"):
        EdgeDaemon(cfg)  # the daemon does not start on it
    assert referenced_file_problems(cfg, source="st.toml") == [
        "st.toml: api.crew_users[0] = 'no-such-user-here': no such user 'no-such-user-here'"
    ]
    for bad in ({"crew_users": ["Bad Name!"]}, {"kiosk_users": [-1]}, {"crew": {"bad badge!": "Wang"}}):
        with pytest.raises(ConfigError, match=r"api\.(crew_users|kiosk_users|crew)"):
            parse_config({"station": {"id": "ST-R"}, "api": bad})


async def test_notifications_follow_the_role_whatever_the_pattern(tmp_path: Path) -> None:
    got: dict[Role, list[str]] = {K: [], C: [], A: []}
    servers = {r: ApiServer(tmp_path / f"{r}.sock", roles=role_map(r)) for r in Role}
    clients: list[EdgeClient] = []
    try:
        for r, s in servers.items():
            await s.start()
            c = EdgeClient(s.path, on_notify=lambda topic, p, r=r: got[r].append(topic))  # type: ignore[misc]
            await c.connect()
            clients.append(c)
            await c.subscribe("*")
        for s in servers.values():
            for topic in ("kiosk.card", "incidents", "faults", "something.else"):
                s.publish(topic, {"x": 1})
        await clients[-1].methods()  # a round trip on each connection: the notifications came before it
        for c in clients:
            await c.methods()
    finally:
        for c in clients:
            await c.close()
        for s in servers.values():
            await s.close()
    assert got[K] == ["kiosk.card", "faults"]  # the kiosk gets card data, never incidents
    assert got[C] == ["incidents", "faults"]  # the crew never gets a resident's card data
    assert got[A] == ["kiosk.card", "incidents", "faults", "something.else"]


async def test_subscriptions_are_bounded_in_count_and_pattern(tmp_path: Path) -> None:
    server = ApiServer(tmp_path / "api.sock")
    await server.start()
    try:
        async with EdgeClient(server.path) as c:
            for bad in (["x"] * (MAX_TOPICS + 1), ["incidents..x"], ["a*"], ["x" * 65]):
                with pytest.raises(ApiError) as err:
                    await c.subscribe(*bad)
                assert err.value.code == INVALID_PARAMS and "$.topics" in err.value.message
            await c.subscribe(*[f"t{i}" for i in range(MAX_TOPICS)])
            with pytest.raises(ApiError, match=f"at most {MAX_TOPICS} topics"):
                await c.subscribe("one.more")
    finally:
        await server.close()


BLOCK: Method[Empty, Empty] = Method("test.block", Empty, Empty, ADMIN_ONLY)


async def test_batches_count_against_the_in_flight_limit(tmp_path: Path) -> None:
    server = ApiServer(tmp_path / "api.sock", max_in_flight=4)
    running, peak = 0, 0
    release, three = asyncio.Event(), asyncio.Event()

    async def block(params: Empty, conn: Connection) -> Empty:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        if running == 3:
            three.set()
        await release.wait()
        running -= 1
        return Empty()

    server.register(BLOCK, block)
    await server.start()
    try:
        reader, writer = await asyncio.open_unix_connection(str(server.path))

        def batch(base: int) -> bytes:
            calls = [{"jsonrpc": "2.0", "id": base + i, "method": "test.block"} for i in range(3)]
            return (json.dumps(calls) + "\n").encode()

        writer.write(batch(0) + batch(10) + batch(20))
        await writer.drain()
        await asyncio.wait_for(three.wait(), 10)
        for _ in range(20):  # the next batch must wait for places: let the loop run a while
            await asyncio.sleep(0)
        assert peak == 3  # a second batch of 3 does not fit into 4 places beside the first
        release.set()
        answers = [json.loads(await asyncio.wait_for(reader.readline(), 10)) for _ in range(3)]
        assert sorted(r["id"] for a in answers for r in a) == [0, 1, 2, 10, 11, 12, 20, 21, 22]
        assert peak <= 4
        too_big = [{"jsonrpc": "2.0", "id": i, "method": "rpc.methods"} for i in range(5)]
        writer.write(json.dumps(too_big).encode() + b"\n")
        answer = json.loads(await asyncio.wait_for(reader.readline(), 10))
        assert answer["error"]["code"] == INVALID_REQUEST and "at most 4" in answer["error"]["message"]
        writer.close()
        await writer.wait_closed()
    finally:
        await server.close()


@pytest.mark.parametrize("depth", [MAX_DEPTH + 5, 100_000])
async def test_a_deeply_nested_request_gets_an_error_answer(tmp_path: Path, depth: int) -> None:
    server = ApiServer(tmp_path / "api.sock")
    await server.start()
    try:
        deep = (
            b'{"jsonrpc": "2.0", "id": 1, "method": "rpc.methods", "params": {"x": '
            + b"[" * depth
            + b"]" * depth
            + b"}}\n"
        )
        bad, ok = await rpc(server.path, deep, req("rpc.methods", rid=2), expect=2)
    finally:
        await server.close()
    assert bad["error"]["code"] == INVALID_REQUEST and f"deeper than {MAX_DEPTH}" in bad["error"]["message"]
    assert ok["id"] == 2 and "rpc.methods" in ok["result"]  # the connection survives


@pytest.fixture
async def crew_station(tmp_path: Path) -> AsyncIterator[EdgeDaemon]:
    cfg = parse_config(
        {
            "station": {"id": "ST-C"},
            "paths": {"data_dir": str(tmp_path / "d")},
            "uplink": {"url": "mqtt://127.0.0.1:9"},
            "outbox": {"reserve_bytes": 0, "disk_low_bytes": 0},
            "api": {"crew_users": [UID], "crew": {"A7703": "王警官"}},
        }
    )
    alarms = AlarmComponent(AlarmsSection.model_validate({"enabled": True, "dc09": None}))
    daemon = EdgeDaemon(cfg, components=[alarms])
    await daemon.start()
    try:
        yield daemon
    finally:
        await daemon.stop()


async def test_the_crews_changes_are_signed_by_the_logged_in_member(crew_station: EdgeDaemon) -> None:
    async with EdgeClient(crew_station.api.path) as c:
        with pytest.raises(ApiError) as err:
            await c.call("incidents.raise", {"site": "站前广场", "by": "anyone"})
        assert err.value.code == FORBIDDEN and "crew.login" in err.value.message
        with pytest.raises(ApiError) as err:
            await c.login("B0000")
        assert err.value.code == FORBIDDEN and "roster" in err.value.message
        member = await c.login("A7703")
        assert (member.badge, member.name) == ("A7703", "王警官")
        inc = await c.call("incidents.raise", {"site": "站前广场"})
        with pytest.raises(ApiError) as err:  # free text naming someone else is refused
            await c.call("incidents.ack", {"id": inc["id"], "by": "另一个人"})
        assert err.value.code == FORBIDDEN
        acked = await c.ack_incident(inc["id"])
        assert [s.by for s in acked.timeline] == ["王警官", "王警官"]
        with pytest.raises(ApiError) as err:
            await c.call_hub("hub.ping")
        assert err.value.code == FORBIDDEN
        await c.logout()
        with pytest.raises(ApiError) as err:
            await c.arrive_incident(inc["id"])
        assert err.value.code == FORBIDDEN
