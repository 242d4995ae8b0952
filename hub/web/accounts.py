"""People and rights: accounts, bearer tokens, sessions, lock-out and the audit log.

Passwords are hashed with scrypt (hashlib, RFC 7914; N=2^15, r=8, p=1, 16-byte salt). Tokens and
session ids are 32 random bytes; only their SHA-256 is stored, so a copy of the database opens nothing.
Roles: ``command`` (command staff: everything), ``district`` (a district officer: the stations of their
district), ``viewer`` (read only, every station).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Final, Literal

from hub.migrations import Part
from hub.web.db import Db

__all__ = [
    "PART",
    "ROLES",
    "AccountError",
    "Accounts",
    "AuditEntry",
    "LoginResult",
    "Principal",
    "hash_password",
    "verify_password",
]

Role = Literal["command", "district", "viewer"]
ROLES: Final[tuple[Role, ...]] = ("command", "district", "viewer")
_N, _R, _P = 1 << 15, 8, 1
_MAXMEM = 64 << 20

# Version 1: the tables as they shipped before versions were recorded. Never edit a shipped version:
# a change is a new entry at the end of PART (hub/migrations.py).
_V1: Final = """
CREATE TABLE IF NOT EXISTS console_users (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, district TEXT NOT NULL, pw TEXT NOT NULL,
    failures INTEGER NOT NULL, locked_until DOUBLE PRECISION NOT NULL, created DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS console_tokens (
    digest TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, district TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS console_sessions (
    digest TEXT PRIMARY KEY, user_name TEXT NOT NULL, csrf TEXT NOT NULL, expires DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS console_audit (
    at DOUBLE PRECISION NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS console_audit_at ON console_audit (at)
"""
PART: Final = Part("accounts", (_V1,))


class AccountError(ValueError):
    """A bad name, role or district for an account or a token."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: a signed-in person or a token's holder."""

    name: str
    role: Role
    district: str = ""
    csrf: str = ""  # the session's CSRF token; empty for bearer tokens (no ambient credential)
    via_token: bool = False

    def sees(self, district: str) -> bool:
        return self.role != "district" or district == self.district

    def may_act(self, district: str) -> bool:
        return self.role != "viewer" and self.sees(district)


@dataclass(frozen=True, slots=True)
class LoginResult:
    session: str | None  # the cookie value, when the password was right and the account not locked
    locked: bool = False


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: float
    actor: str
    action: str
    target: str
    detail: str


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, maxmem=_MAXMEM, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), maxmem=_MAXMEM, dklen=32
        )
    except ValueError:
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


_DUMMY_HASH = hash_password(secrets.token_hex(8))  # unknown names cost as much as known ones


def _check(name: str, role: str, district: str) -> Role:
    if not name or len(name) > 64 or not name.isprintable():
        raise AccountError(f"name {name!r}: 1-64 printable characters")
    if role not in ROLES:
        raise AccountError(f"role {role!r}: one of {', '.join(ROLES)}")
    if role == "district" and not district:
        raise AccountError("a district officer needs --district")
    return role


class Accounts:
    def __init__(self, db: Db, *, max_failures: int = 5, lock_s: float = 900.0, session_s: float = 12 * 3600.0) -> None:
        self.db = db
        self.max_failures = max_failures
        self.lock_s = lock_s
        self.session_s = session_s

    # ---- accounts and tokens ---------------------------------------------------------------------
    def add_user(self, name: str, role: str, password: str, *, district: str = "", actor: str = "cli") -> None:
        _check(name, role, district)
        if len(password) < 8:
            raise AccountError("the password needs at least 8 characters")
        with self.db.transaction():
            self.db.run("DELETE FROM console_users WHERE name=?", (name,))
            self.db.run(
                "INSERT INTO console_users VALUES (?, ?, ?, ?, 0, 0, ?)",
                (name, role, district, hash_password(password), time.time()),
            )
            self.audit(actor, "user.add", name, f"role={role} district={district}")

    def add_token(self, name: str, role: str, *, district: str = "", actor: str = "cli") -> str:
        _check(name, role, district)
        token = "pkc_" + secrets.token_urlsafe(32)
        with self.db.transaction():
            self.db.run(
                "INSERT INTO console_tokens VALUES (?, ?, ?, ?, ?)", (_digest(token), name, role, district, time.time())
            )
            self.audit(actor, "token.add", name, f"role={role} district={district}")
        return token

    def by_token(self, token: str) -> Principal | None:
        row = self.db.one("SELECT name, role, district FROM console_tokens WHERE digest=?", (_digest(token),))
        if row is None:
            return None
        return Principal(name=f"token:{row[0]}", role=row[1], district=row[2], via_token=True)

    # ---- sign-in ---------------------------------------------------------------------------------
    def login(self, name: str, password: str, *, now: float | None = None) -> LoginResult:
        """Check a password. ``max_failures`` wrong ones in a row lock the account for ``lock_s``
        (even the right password is refused while it is locked)."""
        t = time.time() if now is None else now
        row = self.db.one("SELECT pw, failures, locked_until, role FROM console_users WHERE name=?", (name,))
        if row is None:
            verify_password(password, _DUMMY_HASH)
            self.audit(name, "login.failed", name, "unknown account")
            return LoginResult(None)
        stored, failures, locked_until, _role = row
        if locked_until > t:
            self.audit(name, "login.refused", name, "account locked")
            return LoginResult(None, locked=True)
        if not verify_password(password, stored):
            failures += 1
            locked = failures >= self.max_failures
            self.db.run(
                "UPDATE console_users SET failures=?, locked_until=? WHERE name=?",
                (0 if locked else failures, t + self.lock_s if locked else 0.0, name),
            )
            self.audit(name, "login.locked" if locked else "login.failed", name, f"failure {failures}")
            return LoginResult(None, locked=locked)
        session = secrets.token_urlsafe(32)
        with self.db.transaction():
            self.db.run("UPDATE console_users SET failures=0, locked_until=0 WHERE name=?", (name,))
            self.db.run("DELETE FROM console_sessions WHERE expires < ?", (t,))
            self.db.run(
                "INSERT INTO console_sessions VALUES (?, ?, ?, ?)",
                (_digest(session), name, secrets.token_urlsafe(24), t + self.session_s),
            )
            self.audit(name, "login", name, "")
        return LoginResult(session)

    def by_session(self, session: str, *, now: float | None = None) -> Principal | None:
        t = time.time() if now is None else now
        row = self.db.one(
            "SELECT u.name, u.role, u.district, s.csrf FROM console_sessions s JOIN console_users u "
            "ON u.name = s.user_name WHERE s.digest=? AND s.expires > ?",
            (_digest(session), t),
        )
        if row is None:
            return None
        return Principal(name=row[0], role=row[1], district=row[2], csrf=row[3])

    def logout(self, session: str, actor: str) -> None:
        self.db.run("DELETE FROM console_sessions WHERE digest=?", (_digest(session),))
        self.audit(actor, "logout", actor, "")

    # ---- audit -----------------------------------------------------------------------------------
    def audit(self, actor: str, action: str, target: str, detail: str) -> None:
        self.db.run("INSERT INTO console_audit VALUES (?, ?, ?, ?, ?)", (time.time(), actor, action, target, detail))

    def audit_log(self, limit: int = 200) -> list[AuditEntry]:
        rows = self.db.rows(
            "SELECT at, actor, action, target, detail FROM console_audit ORDER BY at DESC LIMIT ?", (limit,)
        )
        return [AuditEntry(*r) for r in rows]
