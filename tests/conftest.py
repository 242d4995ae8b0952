from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from edge.sim.broker import MosquittoProcess
from hub.store import PostgresStore, SqliteStore, Store


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[MosquittoProcess]:
    """A real Mosquitto on a free 127.0.0.1 port; tests may kill() and start() it."""
    broker = MosquittoProcess(tmp_path / "mosquitto")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL: our own throwaway cluster, or PK_TEST_PG_URL if set."""
    url = os.environ.get("PK_TEST_PG_URL")
    if url:
        yield url
        return
    from tests.support.pg import PostgresCluster

    cluster = PostgresCluster()
    cluster.start()
    try:
        yield cluster.url
    finally:
        cluster.stop()


def _our_children() -> dict[int, str]:
    """Live child processes of this test process that run our programs or a broker (from /proc)."""
    me = os.getpid()
    found: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if (
            len(fields) > 2
            and int(fields[1]) == me
            and fields[0] != "Z"
            and ("police_kiosk" in cmdline or "mosquitto" in cmdline)
        ):
            found[int(entry)] = cmdline[:160]
    return found


@pytest.fixture(autouse=True)
def _no_leftover_processes() -> Iterator[None]:
    """Fail a test that leaves a daemon, hub or broker process of its own running (and kill it)."""
    before = set(_our_children())
    yield
    import signal
    import time

    deadline = time.monotonic() + 5
    leftovers = {p: c for p, c in _our_children().items() if p not in before}
    while leftovers and time.monotonic() < deadline:
        time.sleep(0.1)
        leftovers = {p: c for p, c in _our_children().items() if p not in before}
    for pid in leftovers:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    assert not leftovers, f"test left processes running: {list(leftovers.values())}"


OUR_THREADS = ("outbox-writer", "hub-", "daemon-link", "producer", "paho-")


@pytest.fixture
def pg_db_url(postgres_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on the test server; dropped afterwards."""
    import secrets
    from urllib.parse import urlsplit, urlunsplit

    import psycopg
    from psycopg import sql

    name = f"pk_test_{secrets.token_hex(6)}"
    with psycopg.connect(postgres_url, autocommit=True) as con:
        con.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    parts = urlsplit(postgres_url)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as con:
            con.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The hub's store on SQLite and on a fresh PostgreSQL database (tests taking it run on both)."""
    s: Store
    if request.param == "sqlite":
        s = SqliteStore(tmp_path / "hub.db")
    else:
        s = PostgresStore(request.getfixturevalue("pg_db_url"))
    try:
        yield s
    finally:
        s.close()


@pytest.fixture(autouse=True)
def _no_leftover_threads() -> Iterator[None]:
    """Fail a test that leaves a thread running: any non-daemon thread, and our own daemon threads
    (outbox writer, hub workers, UI links) too, since a daemon thread hides a leaked component."""
    before = set(threading.enumerate())
    yield
    leftovers = [
        t
        for t in threading.enumerate()
        if t not in before
        and t.is_alive()
        and t is not threading.current_thread()
        and (not t.daemon or t.name.startswith(OUR_THREADS))
    ]
    for t in leftovers:
        t.join(timeout=5)
    still = [t.name for t in leftovers if t.is_alive()]
    assert not still, f"test left threads running: {still}"


@pytest.fixture(params=["sqlite", "postgres"])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new database with nothing in it yet, on SQLite and on a fresh PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.db'}"
    url: str = request.getfixturevalue("pg_db_url")
    return url


@pytest.fixture
def console_db_url(empty_db_url: str) -> str:
    """A database made ready for the hub and its console, on SQLite and on a fresh PostgreSQL."""
    from hub.web.console import prepare_database

    prepare_database(empty_db_url)
    return empty_db_url
