"""Commands from central, signed with Ed25519: central holds the private key, stations only public keys.

Sans-IO: keys come in as bytes, time as an argument, and the verifier's state (the key in force and the
highest counter seen per command stream) goes out as bytes for its owner to store. Central signs with
`CommandSigner`; a station checks with `CommandVerifier.check()`, which returns why a command must be
refused (a `Refusal`) or None. The signature (`Command.signing_bytes()`) covers every field but `sig`:
the target stations, the issue time, the expiry (mandatory, at most `max_lifetime` after issue), the
monotonic counter and the signing key's id. A station refuses, and counts per reason:

- `no_key`: no public key is configured, so nothing can be trusted;
- `unsigned`, `bad_signature`, `unknown_key`: not signed by the key in force (a forgery, or an old key);
- `wrong_target`: the command names other stations (and not `all`);
- `no_expiry`, `too_long`, `expired`, `future`, `bad_time`: the time window is missing, unbounded, past,
  not yet begun (beyond the clock skew allowed) or unreadable;
- `replayed`: the counter is not above the highest one accepted on the same stream (a stream is the
  command name and whether it was broadcast) — an old command played again, or one out of order;
- `bad_rotation`: a key rotation whose new key is not an Ed25519 public key.

The exact command accepted last on a stream, seen again (a retained command redelivered after a
reconnect), is a `Duplicate`, not a refusal: nothing to do and nothing to count.

Key rotation: `commands.rotate_key` with args `{"public_key": "<PEM>"}`, signed by the key in force,
replaces it; commands signed by the old key are refused from then on (central re-signs its retained
commands with the new key). Key files are PEM: PKCS#8 for the private key, SubjectPublicKeyInfo for the
public key (`police-kiosk hub keygen` writes both).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from edge.wire.messages import Command, new_event_id, utc_now_iso

__all__ = [
    "MAX_KEY_FILE_BYTES",
    "MAX_LIFETIME_S",
    "ROTATE_KEY",
    "CommandKeyError",
    "CommandSigner",
    "CommandVerifier",
    "Duplicate",
    "Refusal",
    "Verdict",
    "generate_key_pair",
    "key_id",
    "load_private_key",
    "load_public_key",
    "public_key_pem",
]

#: The command that replaces the station's public key; signed by the key in force.
ROTATE_KEY: Final = "commands.rotate_key"
#: A PEM key file is a few hundred bytes; anything much bigger is not one.
MAX_KEY_FILE_BYTES: Final = 4096
#: The longest a command may stay valid unless the station's configuration says otherwise (31 days).
MAX_LIFETIME_S: Final = 31 * 24 * 3600.0
DEFAULT_MAX_LIFETIME: Final = MAX_LIFETIME_S
DEFAULT_CLOCK_SKEW: Final = 300.0


class CommandKeyError(ValueError):
    """A key file is not what it must be; the message says what is wrong (never the key itself)."""


class Refusal(StrEnum):
    NO_KEY = "no_key"
    UNSIGNED = "unsigned"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    WRONG_TARGET = "wrong_target"
    NO_EXPIRY = "no_expiry"
    TOO_LONG = "too_long"
    EXPIRED = "expired"
    FUTURE = "future"
    BAD_TIME = "bad_time"
    REPLAYED = "replayed"
    BAD_ROTATION = "bad_rotation"


@dataclass(frozen=True, slots=True)
class Duplicate:
    """The command accepted last on its stream, delivered again: ignore it quietly."""


Verdict = Refusal | Duplicate | None


def key_id(public: Ed25519PublicKey) -> str:
    """A short fingerprint of a public key: 16 hex digits of the SHA-256 of its raw 32 bytes."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _check_size(data: bytes, what: str) -> None:
    if not data.strip():
        raise CommandKeyError(f"the {what} file is empty")
    if len(data) > MAX_KEY_FILE_BYTES:
        raise CommandKeyError(f"the {what} file holds {len(data)} bytes: a PEM Ed25519 key is a few hundred")


def load_public_key(data: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM (SubjectPublicKeyInfo); CommandKeyError says what is wrong."""
    _check_size(data, "public key")
    if b"PRIVATE KEY" in data:
        raise CommandKeyError("this is a private key: a station holds only central's public key")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise CommandKeyError(f"not a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise CommandKeyError(f"not an Ed25519 key (a {type(key).__name__})")
    return key


def load_private_key(data: bytes) -> Ed25519PrivateKey:
    """An Ed25519 private key from unencrypted PEM (PKCS#8)."""
    _check_size(data, "private key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise CommandKeyError(f"not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CommandKeyError(f"not an Ed25519 key (a {type(key).__name__})")
    return key


def public_key_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def generate_key_pair() -> tuple[bytes, bytes]:
    """A new (private PEM, public PEM) pair."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem, public_key_pem(private.public_key())


class CommandSigner:
    """Central's side: fills in the counter, times, key id and signature of each command."""

    def __init__(self, private: Ed25519PrivateKey, *, clock: Callable[[], float] = time.time) -> None:
        self._private = private
        self.key_id = key_id(private.public_key())
        self._clock = clock
        self._last = 0

    def next_counter(self) -> int:
        """Microseconds since the epoch, and always above the last one: monotonic across restarts and
        across the hub's processes as long as their clocks are (NTP), without a shared file."""
        self._last = max(self._last + 1, int(self._clock() * 1_000_000))
        return self._last

    def command(
        self, name: str, args: dict[str, object], *, targets: list[str], lifetime: float, now: float | None = None
    ) -> Command:
        if not targets:
            raise ValueError("a command names at least one target station (or `all`)")
        if lifetime <= 0:
            raise ValueError("a command's lifetime must be positive")
        t = self._clock() if now is None else now
        cmd = Command(
            id=new_event_id(),
            name=name,
            args=dict(args),
            targets=list(targets),
            counter=self.next_counter(),
            issued_at=utc_now_iso(t),
            expires_at=utc_now_iso(t + lifetime),
            key_id=self.key_id,
        )
        return self.sign(cmd)

    def sign(self, cmd: Command) -> Command:
        """`cmd` with `key_id` and `sig` (hex) set; the other fields are the caller's."""
        cmd = msgspec.structs.replace(cmd, key_id=self.key_id, sig="")
        return msgspec.structs.replace(cmd, sig=self._private.sign(cmd.signing_bytes()).hex())

    def rotation(
        self, new_public: Ed25519PublicKey, *, targets: list[str], lifetime: float, now: float | None = None
    ) -> Command:
        """The command that makes stations trust `new_public` instead of this signer's key."""
        return self.command(
            ROTATE_KEY, {"public_key": public_key_pem(new_public).decode()}, targets=targets, lifetime=lifetime, now=now
        )


class TrustState(msgspec.Struct, kw_only=True):
    """What a station keeps between restarts (its owner stores `CommandVerifier.state_bytes()`)."""

    public_key: str = ""  # PEM of a rotated key; "" = the configured one
    rotated_from: str = ""  # key id of the configured key the rotation chain started from
    counters: dict[str, int] = msgspec.field(default_factory=dict)
    last_ids: dict[str, str] = msgspec.field(default_factory=dict)


def _parse_time(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() if text else None
    except ValueError:
        return None


class CommandVerifier:
    """A station's side: the key in force, the counters per stream, and refusals counted per reason."""

    def __init__(
        self,
        station: str,
        configured: Ed25519PublicKey | None,
        *,
        state: bytes = b"",
        max_lifetime: float = DEFAULT_MAX_LIFETIME,
        clock_skew: float = DEFAULT_CLOCK_SKEW,
    ) -> None:
        self.station = station
        self.max_lifetime = max_lifetime
        self.clock_skew = clock_skew
        self.refused: dict[str, int] = {}
        self.accepted = 0
        self._configured = configured
        self._state = TrustState()
        if state:
            try:
                self._state = msgspec.json.decode(state, type=TrustState)
            except (msgspec.DecodeError, msgspec.ValidationError):
                self._state = TrustState()  # unreadable: the configured key, counters from zero
        self._key = configured
        if configured is not None and self._state.public_key:
            if self._state.rotated_from == key_id(configured):
                try:
                    self._key = load_public_key(self._state.public_key.encode())
                except CommandKeyError:
                    self._state.public_key = ""
            else:  # the configuration names a new key: the administrator re-provisioned the station
                self._state.public_key = ""

    @property
    def key_id(self) -> str | None:
        return key_id(self._key) if self._key is not None else None

    def state_bytes(self) -> bytes:
        return msgspec.json.encode(self._state)

    def check(self, cmd: Command, *, now: float | None = None) -> Verdict:
        """Why `cmd` must be refused (counted), Duplicate, or None when it is to be applied. An accepted
        command advances its stream's counter; an accepted rotation switches the key."""
        verdict = self._verdict(cmd, time.time() if now is None else now)
        if isinstance(verdict, Refusal):
            self.refused[verdict.value] = self.refused.get(verdict.value, 0) + 1
        return verdict

    def _verdict(self, cmd: Command, now: float) -> Verdict:
        if self._key is None:
            return Refusal.NO_KEY
        if not cmd.sig:
            return Refusal.UNSIGNED
        if cmd.key_id != key_id(self._key):
            return Refusal.UNKNOWN_KEY
        try:
            self._key.verify(bytes.fromhex(cmd.sig), cmd.signing_bytes())
        except (ValueError, InvalidSignature):
            return Refusal.BAD_SIGNATURE
        if self.station not in cmd.targets and "all" not in cmd.targets:
            return Refusal.WRONG_TARGET
        issued, expires = _parse_time(cmd.issued_at), _parse_time(cmd.expires_at)
        if not cmd.expires_at:
            return Refusal.NO_EXPIRY
        if issued is None or expires is None:
            return Refusal.BAD_TIME
        if expires - issued > self.max_lifetime:
            return Refusal.TOO_LONG
        if issued > now + self.clock_skew:
            return Refusal.FUTURE
        if expires < now:
            return Refusal.EXPIRED
        stream = f"{'all' if 'all' in cmd.targets else 'station'}:{cmd.name}"
        last = self._state.counters.get(stream, 0)
        if cmd.counter == last and self._state.last_ids.get(stream) == cmd.id:
            return Duplicate()
        if cmd.counter <= last:
            return Refusal.REPLAYED
        if cmd.name == ROTATE_KEY:
            try:
                new = load_public_key(str(cmd.args.get("public_key", "")).encode())
            except CommandKeyError:
                return Refusal.BAD_ROTATION
            assert self._configured is not None
            self._state.public_key = public_key_pem(new).decode()
            self._state.rotated_from = key_id(self._configured)
            self._key = new
        self._state.counters[stream] = cmd.counter
        self._state.last_ids[stream] = cmd.id
        self.accepted += 1
        return None
