"""Accounts, tokens, sessions, lock-out and audit on SQLite and PostgreSQL (the console's own tables)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.web.accounts import AccountError, Accounts, hash_password, verify_password
from hub.web.console import prepare_database
from hub.web.db import Db


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Db]:
    url = f"sqlite:///{tmp_path / 'hub.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_db_url")
    prepare_database(url)
    handle = Db(url)
    try:
        yield handle
    finally:
        handle.close()


def test_scrypt_hashes_are_salted_and_verify() -> None:
    a, b = hash_password("correct horse"), hash_password("correct horse")
    assert a != b and a.startswith("scrypt$32768$8$1$")
    assert verify_password("correct horse", a)
    assert not verify_password("correct horsf", a)
    assert not verify_password("x", "not-a-hash")


def test_login_session_and_lock_out(db: Db) -> None:
    acc = Accounts(db, max_failures=3, lock_s=60)
    acc.add_user("ops", "command", "s3cret-pass")
    ok = acc.login("ops", "s3cret-pass", now=1000.0)
    assert ok.session
    who = acc.by_session(ok.session, now=1000.0)
    assert who is not None and who.role == "command" and who.csrf
    assert acc.by_session(ok.session + "x", now=1000.0) is None
    first, second, third = (acc.login("ops", "wrong", now=1001.0) for _ in range(3))
    assert (first.locked, second.locked, third.locked) == (False, False, True)
    locked = acc.login("ops", "s3cret-pass", now=1002.0)  # even the right password, while locked
    assert locked.session is None and locked.locked
    assert acc.login("ops", "s3cret-pass", now=1070.0).session  # the lock expires
    actions = [e.action for e in acc.audit_log()]
    assert "login.locked" in actions and "user.add" in actions and actions.count("login") == 2


def test_tokens_roles_and_districts(db: Db) -> None:
    acc = Accounts(db)
    token = acc.add_token("script", "district", district="东城")
    who = acc.by_token(token)
    assert who is not None and who.via_token and who.district == "东城"
    assert who.sees("东城") and not who.sees("西城") and who.may_act("东城")
    assert acc.by_token(token[:-1] + ("B" if token.endswith("A") else "A")) is None  # one character off
    viewer = acc.by_token(acc.add_token("wall", "viewer"))
    assert viewer is not None and viewer.sees("西城") and not viewer.may_act("西城")
    with pytest.raises(AccountError):
        acc.add_token("x", "district")
    with pytest.raises(AccountError):
        acc.add_user("x", "admin", "long-enough")
    with pytest.raises(AccountError):
        acc.add_user("x", "viewer", "short")
