"""Central's signed commands (edge/wire/commands.py): forged, replayed, misdirected, expired and rotated."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from edge.cli import command as edge_command
from edge.wire import messages as wire
from edge.wire.commands import (
    ROTATE_KEY,
    CommandKeyError,
    CommandVerifier,
    Duplicate,
    Refusal,
    load_private_key,
    load_public_key,
)
from tests.support.commands import CentralKeys, central_keys

NOW = 1_800_000_000.0
CENTRAL = central_keys()
FORGER = central_keys()


def verifier(keys: CentralKeys = CENTRAL, station: str = "ST-1", state: bytes = b"") -> CommandVerifier:
    return CommandVerifier(station, load_public_key(keys.public_pem), state=state)


def cmd(
    name: str = "kiosk.notices",
    *,
    keys: CentralKeys = CENTRAL,
    targets: list[str] | None = None,
    lifetime: float = 3600.0,
    now: float = NOW,
    args: dict[str, object] | None = None,
) -> wire.Command:
    return keys.signer.command(name, args or {"n": 1}, targets=targets or ["ST-1"], lifetime=lifetime, now=now)


def test_a_good_command_is_accepted_once_and_its_redelivery_is_a_quiet_duplicate() -> None:
    v = verifier()
    c = cmd()
    assert v.check(c, now=NOW) is None
    assert isinstance(v.check(c, now=NOW + 1), Duplicate)  # the retained copy after a reconnect
    assert v.refused == {} and v.accepted == 1


def test_a_command_roundtrips_the_wire_and_still_verifies() -> None:
    c = wire.decode_command(wire.encode(cmd(targets=["all"])))
    assert verifier().check(c, now=NOW) is None


@pytest.mark.parametrize(
    ("tamper", "why"),
    [
        (lambda c: msgspec.structs.replace(c, sig=""), Refusal.UNSIGNED),
        (lambda c: msgspec.structs.replace(c, args={"n": 2}), Refusal.BAD_SIGNATURE),
        (lambda c: msgspec.structs.replace(c, targets=["ST-1", "ST-2"]), Refusal.BAD_SIGNATURE),
        (lambda c: msgspec.structs.replace(c, counter=c.counter + 1), Refusal.BAD_SIGNATURE),
        (lambda c: msgspec.structs.replace(c, expires_at=wire.utc_now_iso(NOW + 10**7)), Refusal.BAD_SIGNATURE),
        (lambda c: msgspec.structs.replace(c, name="vision.watchlist"), Refusal.BAD_SIGNATURE),
        (lambda c: msgspec.structs.replace(c, sig="zz" * 64), Refusal.BAD_SIGNATURE),
        (lambda c: msgspec.structs.replace(c, sig="00"), Refusal.BAD_SIGNATURE),
        (lambda c: msgspec.structs.replace(c, key_id="0" * 16), Refusal.UNKNOWN_KEY),
    ],
)
def test_a_tampered_command_is_refused_and_counted(tamper: object, why: Refusal) -> None:
    v = verifier()
    assert v.check(tamper(cmd()), now=NOW) is why  # type: ignore[operator]
    assert v.refused == {why.value: 1} and v.accepted == 0


def test_a_command_forged_with_another_key_is_refused_even_when_it_claims_centrals_key_id() -> None:
    v = verifier()
    forged = cmd(keys=FORGER)
    assert v.check(forged, now=NOW) is Refusal.UNKNOWN_KEY
    claimed = msgspec.structs.replace(forged, key_id=CENTRAL.signer.key_id)
    assert v.check(claimed, now=NOW) is Refusal.BAD_SIGNATURE


def test_wrong_target_is_refused_and_all_reaches_everyone() -> None:
    assert verifier(station="ST-2").check(cmd(targets=["ST-1"]), now=NOW) is Refusal.WRONG_TARGET
    assert verifier(station="ST-2").check(cmd(targets=["ST-1", "ST-2"]), now=NOW) is None
    assert verifier(station="ST-2").check(cmd(targets=["all"]), now=NOW) is None


def test_time_window_is_mandatory_bounded_and_enforced() -> None:
    v = verifier()
    assert v.check(cmd(now=NOW - 7200), now=NOW) is Refusal.EXPIRED
    assert v.check(cmd(now=NOW + 3600), now=NOW) is Refusal.FUTURE
    assert v.check(cmd(now=NOW + 60), now=NOW) is None  # within the clock skew allowed
    assert v.check(cmd(lifetime=60 * 86400), now=NOW) is Refusal.TOO_LONG
    no_expiry = CENTRAL.signer.sign(msgspec.structs.replace(cmd(), expires_at=""))
    assert v.check(no_expiry, now=NOW) is Refusal.NO_EXPIRY
    garbled = CENTRAL.signer.sign(msgspec.structs.replace(cmd(), issued_at="yesterday"))
    assert v.check(garbled, now=NOW) is Refusal.BAD_TIME


def test_replayed_and_out_of_order_commands_are_refused_also_after_a_restart() -> None:
    v = verifier()
    first, second = cmd(), cmd()
    assert second.counter > first.counter
    assert v.check(second, now=NOW) is None
    assert v.check(first, now=NOW) is Refusal.REPLAYED  # older, delivered late (or replayed)
    restarted = verifier(state=v.state_bytes())
    assert restarted.check(second, now=NOW) == Duplicate()
    assert restarted.check(first, now=NOW) is Refusal.REPLAYED
    assert restarted.refused == {"replayed": 1}


def test_streams_are_per_name_and_scope_so_retained_commands_do_not_shadow_each_other() -> None:
    v = verifier()
    broadcast = cmd(targets=["all"])  # retained on police/v1/all/cmd/kiosk.notices
    own = cmd(targets=["ST-1"])  # retained on police/v1/ST-1/cmd/kiosk.notices, newer
    result = cmd("kiosk.result")  # newer still, another command
    for c in (result, own, broadcast):  # the broker may deliver them in any order
        assert v.check(c, now=NOW) is None


def test_key_rotation_signed_by_the_current_key_switches_keys_and_survives_a_restart() -> None:
    new = central_keys()
    v = verifier()
    old_cmd = cmd()
    rotation = CENTRAL.signer.rotation(
        load_private_key(new.private_pem).public_key(), targets=["all"], lifetime=3600, now=NOW
    )
    assert rotation.name == ROTATE_KEY
    assert v.check(rotation, now=NOW) is None
    assert v.key_id == new.signer.key_id
    assert v.check(old_cmd, now=NOW) is Refusal.UNKNOWN_KEY  # the old key is no longer trusted
    assert v.check(cmd(keys=new), now=NOW) is None
    again = verifier(state=v.state_bytes())  # the configuration still names the original key
    assert again.key_id == new.signer.key_id
    # an administrator who configures another key (re-provisioning) starts a new chain from it
    other = central_keys()
    assert verifier(other, state=v.state_bytes()).key_id == other.signer.key_id


def test_a_rotation_not_signed_by_the_current_key_or_without_a_key_is_refused() -> None:
    v = verifier()
    forged = FORGER.signer.rotation(
        load_private_key(FORGER.private_pem).public_key(), targets=["all"], lifetime=3600, now=NOW
    )
    assert v.check(forged, now=NOW) is Refusal.UNKNOWN_KEY
    bad = CENTRAL.signer.command(ROTATE_KEY, {"public_key": "not a key"}, targets=["all"], lifetime=60, now=NOW)
    assert v.check(bad, now=NOW) is Refusal.BAD_ROTATION
    assert v.key_id == CENTRAL.signer.key_id


def test_without_a_configured_key_every_command_is_refused() -> None:
    v = CommandVerifier("ST-1", None)
    assert v.check(cmd(), now=NOW) is Refusal.NO_KEY
    assert (
        CommandVerifier("ST-1", load_public_key(CENTRAL.public_pem), state=b"{garbage").check(cmd(), now=NOW) is None
    )  # an unreadable state file: counters from zero, the configured key


def _ec_public_pem() -> bytes:
    return (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"  \n", "empty"),
        (b"A" * 5000, "bytes"),
        (b"hmac-secret-0123456789", "not a PEM public key"),
        (CENTRAL.private_pem, "private key"),
        (_ec_public_pem(), "not an Ed25519 key"),
    ],
)
def test_bad_public_key_files_are_refused_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(CommandKeyError, match=message):
        load_public_key(data)


def test_check_config_names_the_key_file_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.pub"
    empty.write_bytes(b"")
    private, public = CENTRAL.write(tmp_path)
    for key, expect in ((empty, "file is empty"), (private, "a station holds only central's public key")):
        cfg = tmp_path / "station.toml"
        cfg.write_text(f'[station]\nid = "ST-1"\n[commands]\npublic_key_file = "{key}"\n')
        assert edge_command("check-config", [str(cfg)]) == 1
        err = capsys.readouterr().err
        assert "station.toml: commands.public_key_file" in err and expect in err
    cfg.write_text(f'[station]\nid = "ST-1"\n[commands]\npublic_key_file = "{public}"\n')
    assert edge_command("check-config", [str(cfg)]) == 0
    cfg.write_text('[station]\nid = "ST-1"\n[kiosk]\nnotice_key = "shared-secret-0123456789"\n')
    assert edge_command("check-config", [str(cfg)]) == 1
    assert "commands.public_key_file" in capsys.readouterr().err  # the old HMAC key says what replaced it


def _hub(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "police_kiosk", "hub", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(Path.cwd())},
    )


def test_hub_keygen_writes_a_private_key_only_its_owner_reads_and_never_overwrites(tmp_path: Path) -> None:
    done = _hub("keygen", "--private", "c.key", "--public", "c.pub", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "c.key").stat().st_mode & 0o777 == 0o600
    private = (tmp_path / "c.key").read_bytes()
    signer_key = load_private_key(private)
    assert load_public_key((tmp_path / "c.pub").read_bytes()) == signer_key.public_key()
    again = _hub("keygen", "--private", "c.key", "--public", "d.pub", cwd=tmp_path)
    assert again.returncode == 2 and "never overwritten" in again.stderr
    assert (tmp_path / "c.key").read_bytes() == private
    unbounded = _hub("command", "--key-file", "c.key", "--expires", "0", "kiosk.notices", "{}", cwd=tmp_path)
    assert unbounded.returncode == 2 and "--expires" in unbounded.stderr
    not_a_key = _hub("command", "--key-file", "c.pub", "kiosk.notices", "{}", cwd=tmp_path)
    assert not_a_key.returncode == 2 and "private key" in not_a_key.stderr
