from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from edge.mosquitto import MosquittoProcess


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
    from tests.pg import PostgresCluster

    cluster = PostgresCluster()
    cluster.start()
    try:
        yield cluster.url
    finally:
        cluster.stop()


OUR_THREADS = ("outbox-writer", "hub-", "daemon-link", "producer", "paho-")


@pytest.fixture(autouse=True)
def _no_leftover_threads() -> Iterator[None]:
    """Fail a test that leaves a thread running: any non-daemon thread, and our own daemon threads
    (outbox writer, hub workers, UI links) too, since a daemon thread hides a leaked component."""
    before = set(threading.enumerate())
    yield
    leftovers = [
        t for t in threading.enumerate()
        if t not in before and t.is_alive() and t is not threading.current_thread()
        and (not t.daemon or t.name.startswith(OUR_THREADS))
    ]
    for t in leftovers:
        t.join(timeout=5)
    still = [t.name for t in leftovers if t.is_alive()]
    assert not still, f"test left threads running: {still}"
