"""The patrol pages' rights, against the real hub serving `--http` (a process) over SQLite: only command
staff change the roster, a session's post needs its CSRF token, every change is audited, the API answers
with the same rights and refuses a bad period."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from edge.sim.broker import MosquittoProcess
from hub.web.accounts import Accounts
from hub.web.auth import SESSION_COOKIE
from hub.web.console import prepare_database
from hub.web.db import Db
from tests.support.central import Central, seed_station

ID_NUMBER = "11010519491231002X"


@dataclass
class Client:
    base: str
    headers: dict[str, str]

    def send(self, path: str, data: dict[str, str] | None = None, /, **headers: str) -> tuple[int, str]:
        body = None if data is None else urllib.parse.urlencode(data).encode()
        req = urllib.request.Request(self.base + path, data=body, headers={**self.headers, **headers})
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def get(self, path: str, /, **headers: str) -> tuple[int, str]:
        return self.send(path, **headers)

    def json(self, path: str, /, **headers: str) -> Any:
        status, text = self.get(path, **headers)
        assert status == 200, text
        return json.loads(text)


@pytest.fixture
def central(tmp_path: Path, mosquitto: MosquittoProcess) -> Iterator[tuple[Client, dict[str, str], str]]:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    prepare_database(url)
    db = Db(url)
    try:
        acc = Accounts(db)
        acc.add_user("boss", "command", "boss-pass-1")
        session = acc.login("boss", "boss-pass-1").session
        assert session is not None
        tokens = {
            r: acc.add_token(f"{r}-t", r, district="东城" if r == "district" else "") for r in ("district", "viewer")
        }
    finally:
        db.close()
    seed_station(url, "ST-E", name="东城站", district="东城", incident=None)
    seed_station(url, "ST-W", name="西城站", district="西城", incident=None)
    hub = Central(tmp_path, mosquitto.url, db_url=url)
    hub.start()
    try:
        yield Client(hub.url, {}), tokens, session
    finally:
        hub.stop()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def status(answer: tuple[int, str]) -> int:
    return answer[0]


def test_only_command_staff_change_the_roster_with_csrf_and_audit(central: tuple[Client, dict[str, str], str]) -> None:
    client, tokens, session = central
    form = {"display_name": "老张", "role": "volunteer", "id_number": ID_NUMBER, "with_code": "on"}
    for role in ("district", "viewer"):
        assert status(client.get("/patrol/roster", **bearer(tokens[role]))) == 403
        assert status(client.send("/patrol/roster", form, **bearer(tokens[role]))) == 403
    client.headers["Cookie"] = f"{SESSION_COOKIE}={session}"
    code, page = client.get("/patrol/roster")
    assert code == 200
    assert status(client.send("/patrol/roster", form)) == 403  # no CSRF token
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None
    code, done = client.send("/patrol/roster", {**form, "csrf": csrf.group(1)})
    assert code == 200
    assert "110***********002X" in done and ID_NUMBER not in done
    issued = re.search(r'id="new-code">(\d{8})<', done)
    assert issued is not None
    assert issued.group(1) not in client.get("/patrol/roster")[1]  # shown once
    code, bad = client.send("/patrol/roster", {**form, "id_number": "123", "csrf": csrf.group(1)})
    assert code == 400 and "身份证号格式不正确" in bad
    audit = client.get("/audit")[1]
    assert "patrol.member_added" in audit and "roster v1 queued" in audit and ID_NUMBER not in audit


def test_the_api_sees_what_the_role_sees(central: tuple[Client, dict[str, str], str]) -> None:
    client, tokens, _ = central
    assert status(client.get("/api/v1/patrol/checkins")) == 401
    assert client.json("/api/v1/patrol/checkins", **bearer(tokens["district"]))["unvisited"] == ["ST-E"]
    assert client.json("/api/v1/patrol/checkins", **bearer(tokens["viewer"]))["unvisited"] == ["ST-E", "ST-W"]
    for period in ("from=2026-12-03&to=2026-12-01", "from=2026-01-01&to=2026-12-01", "to=yesterday"):
        assert status(client.get(f"/api/v1/patrol/checkins?{period}", **bearer(tokens["viewer"]))) == 400
    assert status(client.get("/patrol?from=nonsense", **bearer(tokens["viewer"]))) == 400
    # the page's live part (fetched again on the stream's `checkin`): the same rights, the same period
    code, part = client.get("/patrol/table", **bearer(tokens["district"]))
    assert code == 200 and 'data-station="ST-E"' in part and "ST-W" not in part and "<html" not in part
    assert status(client.get("/patrol/table?from=nonsense", **bearer(tokens["viewer"]))) == 400
