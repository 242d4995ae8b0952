"""`--http`: how it is spelled, and a port already taken stops the hub (exit 2) before ingest starts."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from hub.web.auth import local_path
from hub.web.server import parse_http
from tests.support.procs import PYTHON


def test_http_option() -> None:
    assert parse_http("8080") == ("127.0.0.1", 8080)
    assert parse_http(":8080") == ("127.0.0.1", 8080)
    assert parse_http("0.0.0.0:80") == ("0.0.0.0", 80)
    assert parse_http("[::1]:8080") == ("::1", 8080)
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_http("localhost")


def test_redirects_stay_on_this_server() -> None:
    assert local_path("/incidents/A/B") == "/incidents/A/B"
    for bad in ("//evil.example", "/\\evil.example", "https://evil.example", "/a\r\nSet-Cookie: x", None):
        assert local_path(bad) == ""


def test_a_port_in_use_stops_the_hub(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run(
            [
                *PYTHON,
                "hub",
                "--broker",
                "mqtt://127.0.0.1:9",
                "--db",
                f"sqlite:///{tmp_path}/h.db",
                "--http",
                f"127.0.0.1:{port}",
            ],
            capture_output=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert f"--http 127.0.0.1:{port}" in done.stderr.decode()


def test_station_listing_links_keep_the_filters() -> None:
    from hub.web.pages import StationListing

    listing = StationListing(
        rows=[], matching=450, counts={}, chosen={"district": "东城", "state": ""}, districts=["东城"], page=2, pages=3
    )
    assert listing.link() == "district=%E4%B8%9C%E5%9F%8E&page=2"
    assert listing.link(page=1) == "district=%E4%B8%9C%E5%9F%8E"
    assert listing.link(state="silent", page=1) == "district=%E4%B8%9C%E5%9F%8E&state=silent"
