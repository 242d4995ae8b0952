"""SIA DC-09 codec: golden vectors, negative vectors, encryption, time window, stream properties."""

from __future__ import annotations

import importlib.util
import itertools
import random
import sys
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.dc09.codec import (
    Dc09Decoder,
    Dc09EncodeError,
    Dc09Error,
    Dc09Message,
    Dc09Token,
    ResponseKind,
    crc16_arc,
    encode_frame,
    encode_response,
)
from drivers.dc09.frame import Dc09CryptoError, Dc09Framer, decrypt_hex, encrypt_hex, frame_span
from drivers.dc09.sender import Dc09ResponseDecoder, Dc09Transmitter
from tests.support.paths import ROOT

NOW = datetime(2024, 3, 1, 8, 30, 0, tzinfo=UTC)

# (body between <LF> and <CR>, token, seq, receiver, prefix, account, data, timestamp) from protocols.md
GOLDEN = [
    ('F4D20029"SIA-DCS"0001RF3L77#1234[#1234|NRR|Atest]', "SIA-DCS", 1, "F3", "77", "1234", "#1234|NRR|Atest", None),
    ('96ED0016"SIA-DCS"0001L0#1234[]', "SIA-DCS", 1, None, "0", "1234", "", None),
    (
        '3BAC0029"SIA-DCS"0002#0123[#0123|Nti20:50:26RP99]',
        "SIA-DCS",
        2,
        None,
        None,
        "0123",
        "#0123|Nti20:50:26RP99",
        None,
    ),
    ('9EC40027"ADM-CID"0001L0#1002[#1002|1602 00 001]', "ADM-CID", 1, None, "0", "1002", "#1002|1602 00 001", None),
    ('54230012"NULL"0000L0#AAA[]', "NULL", 0, None, "0", "AAA", "", None),
    (
        'CDA80026"NULL"0000L0#AAA[]_19:08:35,04-29-2021',
        "NULL",
        0,
        None,
        "0",
        "AAA",
        "",
        datetime(2021, 4, 29, 19, 8, 35, tzinfo=UTC),
    ),
    ('53350022"SIA-DCS"0001L0#AAA[#AAA|Nri0/ZY0]', "SIA-DCS", 1, None, "0", "AAA", "#AAA|Nri0/ZY0", None),
    (
        'EDA70039"SIA-DCS"0013L0#AAA[#AAA|Nri0/RP0000]_09:19:30,02-20-2023',
        "SIA-DCS",
        13,
        None,
        "0",
        "AAA",
        "#AAA|Nri0/RP0000",
        datetime(2023, 2, 20, 9, 19, 30, tzinfo=UTC),
    ),
]


def wire(body: str) -> bytes:
    return b"\n" + body.encode("latin-1") + b"\r"


def fixed_rng(n: int) -> bytes:
    return bytes(range(7, 7 + n))


def decoder(**kw: object) -> Dc09Decoder:
    kw.setdefault("check_time", False)
    return Dc09Decoder(**kw)  # type: ignore[arg-type]


# --- golden vectors -------------------------------------------------------------------------------


def test_crc16_arc_check_value() -> None:
    assert crc16_arc(b"123456789") == 0xBB3D
    assert crc16_arc(b"") == 0


@pytest.mark.parametrize("vector", GOLDEN, ids=[g[0][:8] for g in GOLDEN])
def test_golden_frame_decodes_and_is_acked(vector: tuple) -> None:  # type: ignore[type-arg]
    body, token, seq, rcvr, pref, acct, data, ts = vector
    dec = decoder()
    (out,) = dec.feed(wire(body), now=NOW)
    assert out.verdict is ResponseKind.ACK
    assert out.accepted
    assert out.message == Dc09Message(Dc09Token(token), False, seq, rcvr, pref, acct, data, (), ts)
    assert int(body[:4], 16) == crc16_arc(body[8:].encode())
    assert int(body[4:8], 16) == len(body) - 8
    assert dec.counters.frames_ok == 1
    assert dec.counters.rejected == 0


@pytest.mark.parametrize("vector", GOLDEN, ids=[g[0][:8] for g in GOLDEN])
def test_golden_frame_encodes_byte_for_byte(vector: tuple) -> None:  # type: ignore[type-arg]
    body, token, seq, rcvr, pref, acct, data, ts = vector
    raw = encode_frame(token=token, sequence=seq, receiver=rcvr, prefix=pref, account=acct, data=data, timestamp=ts)
    assert raw == wire(body)


def test_captured_frame_and_ack_from_public_issue_tracker() -> None:
    # ioBroker.sia / node-red-contrib-sia-ultimate issue #2: crc 28868 (0x70C4), len 59, ACK DAEF0012.
    body = '70C4003B"SIA-DCS"1707L0#0000[#0000|Nri0/RP0000]_13:36:41,12-22-2021'
    (out,) = decoder().feed(wire(body), now=NOW)
    assert out.verdict is ResponseKind.ACK
    assert out.reply == wire('DAEF0012"ACK"1707L0#0000[]')


def test_nak_matches_captured_receiver_nak() -> None:
    # ioBroker.sia issue #11: <0x0A>3C3B0025"NAK"0000R0L0A0[]_15:39:35,05-07-2019<0x0D>
    when = datetime(2019, 5, 7, 15, 39, 35, tzinfo=UTC)
    assert encode_response("NAK", now=when) == wire('3C3B0025"NAK"0000R0L0A0[]_15:39:35,05-07-2019')


def test_captured_encrypted_null_decrypts() -> None:
    # pysiaalarm test case "null": AES-128 key "AAAAAAAAAAAAAAAA", a pad without "|" before "]".
    body = '76D80055"*NULL"0000R0L0#AAAB[B4BC8B40D0E6D959D6BEA78E88CC0B2155741A3C44FBB96D476A3E557CAD64D9'
    when = datetime(2020, 7, 5, 18, 24, 52, tzinfo=UTC)
    dec = Dc09Decoder(keys={"aaab": b"AAAAAAAAAAAAAAAA"})
    (out,) = dec.feed(wire(body), now=when + timedelta(seconds=3))
    assert out.verdict is ResponseKind.ACK
    assert out.message is not None
    assert out.message.encrypted
    assert out.message.is_link_test
    assert out.message.timestamp == when
    (ack,) = Dc09ResponseDecoder(keys={"AAAB": b"AAAAAAAAAAAAAAAA"}).feed(out.reply)
    assert (ack.kind, ack.encrypted, ack.account) == (ResponseKind.ACK, True, "AAAB")
    assert ack.timestamp == when + timedelta(seconds=3)


def test_all_golden_frames_in_one_segment_and_byte_by_byte() -> None:
    stream = b"".join(wire(g[0]) for g in GOLDEN)
    whole = [o.message for o in decoder().feed(stream, now=NOW)]
    dec = decoder()
    trickled = [o.message for i in range(len(stream)) for o in dec.feed(stream[i : i + 1], now=NOW)]
    assert whole == trickled
    assert len(whole) == len(GOLDEN)
    assert dec.buffered == 0


# --- negative vectors ----------------------------------------------------------------------------


def test_bad_crc_is_dropped_without_answer() -> None:
    dec = decoder()
    assert dec.feed(wire('F4D30029"SIA-DCS"0001RF3L77#1234[#1234|NRR|Atest]'), now=NOW) == []
    assert dec.counters.crc_errors == 1
    assert dec.counters.frames_ok == 0


@pytest.mark.parametrize("length", ["0028", "002A", "0FFF", "0001"])
def test_bad_length_is_dropped_without_answer(length: str) -> None:
    body = f'F4D2{length}"SIA-DCS"0001RF3L77#1234[#1234|NRR|Atest]'
    dec = decoder()
    assert dec.feed(wire(body) + wire(GOLDEN[1][0]), now=NOW)[0].message.account == "1234"  # type: ignore[union-attr]
    assert dec.counters.length_errors == 1
    assert dec.counters.frames_ok == 1


def test_truncated_frame_then_good_frame() -> None:
    good = wire(GOLDEN[4][0])
    dec = decoder()
    out = dec.feed(wire(GOLDEN[0][0])[:30] + good, now=NOW)
    assert [o.message.token for o in out if o.message] == [Dc09Token.NULL]
    assert dec.counters.length_errors == 1


def test_truncated_frame_at_end_waits_then_flush_counts_it() -> None:
    dec = decoder()
    assert dec.feed(wire(GOLDEN[0][0])[:30], now=NOW) == []
    assert dec.buffered == 30
    assert dec.flush() == 30
    assert dec.counters.length_errors == 1
    assert dec.buffered == 0


def test_garbage_before_frame_is_counted() -> None:
    dec = decoder()
    (out,) = dec.feed(b"\x00\xffhello\r\r" + wire(GOLDEN[1][0]), now=NOW)
    assert out.accepted
    assert dec.counters.garbage_bytes == 9


def test_lower_case_hex_fields_are_accepted() -> None:
    (out,) = decoder().feed(wire('f4d20029"SIA-DCS"0001Rf3L77#1234[#1234|NRR|Atest]'.replace("Rf3", "RF3")), now=NOW)
    assert out.accepted
    body = 'CDA80026"NULL"0000L0#AAA[]_19:08:35,04-29-2021'.lower().replace('"null"', '"NULL"')
    body = body.replace("l0#aaa", "L0#AAA")
    (out,) = decoder().feed(wire(body), now=NOW)
    assert out.accepted
    assert body[:8] == "cda80026"


def test_lower_case_token_is_a_format_error_answered_with_duh() -> None:
    span = b'"sia-dcs"0001L0#1234[]'
    dec = decoder()
    (out,) = dec.feed(frame_span(span), now=NOW)
    assert (out.verdict, out.reason, out.sequence, out.account) == (ResponseKind.DUH, "malformed-header", 1, "1234")
    assert out.reply == encode_response("DUH", sequence=1, account="1234", prefix="0")
    assert dec.counters.format_errors == 1
    assert dec.counters.duhs == 1


def test_length_field_must_start_with_zero() -> None:
    dec = decoder()
    assert dec.feed(wire('96ED1016"SIA-DCS"0001L0#1234[]'), now=NOW) == []
    assert dec.counters.garbage_bytes > 0
    assert dec.counters.length_errors == 0


def test_missing_account_is_a_format_error_answered_with_duh() -> None:
    dec = decoder()
    (out,) = dec.feed(frame_span(b'"SIA-DCS"0001L0[]'), now=NOW)
    assert (out.verdict, out.reason, out.account) == (ResponseKind.DUH, "missing-account", "")
    assert out.reply == frame_span(b'"DUH"0001L0[]')
    assert dec.counters.format_errors == 1


def test_unknown_token_gets_duh() -> None:
    (out,) = decoder().feed(frame_span(b'"SIA-XYZ"0042L0#1234[]'), now=NOW)
    assert (out.verdict, out.reason, out.sequence, out.message) == (ResponseKind.DUH, "unsupported-token", 42, None)
    (resp,) = Dc09ResponseDecoder().feed(out.reply)
    assert (resp.kind, resp.sequence, resp.account) == (ResponseKind.DUH, 42, "1234")


@pytest.mark.parametrize(
    "span", [b'"SIA-DCS"0001L0#1234[abc', b'"SIA-DCS"0001L0#1234[a]b', b'"NULL"0001L0#1234[]_25:00:00,01-01-2024']
)
def test_malformed_data_with_good_crc_gets_duh(span: bytes) -> None:
    dec = decoder()
    (out,) = dec.feed(frame_span(span), now=NOW)
    assert out.verdict is ResponseKind.DUH
    assert out.reason == "malformed-data"
    assert dec.counters.format_errors == 1
    assert dec.counters.duhs == 1


def _case_only(raw: bytes, i: int, new: int) -> bool:
    """Whether replacing raw[i] by new only changes the case of a hex letter in the header (allowed)."""
    hex_header = range(1, 9) if raw[9:10] == b'"' else range(3, 7)
    return i in hex_header and chr(new) in "abcdefABCDEF" and chr(new).upper() == chr(raw[i]).upper()


def _single_corruptions(raw: bytes) -> list[bytes]:
    out: list[bytes] = []
    for i in range(len(raw)):
        for b in {raw[i] ^ 0x01, raw[i] ^ 0x20, raw[i] ^ 0x80, *b'\n\r0F"'} - {raw[i]}:
            if not _case_only(raw, i, b):
                out.append(raw[:i] + bytes([b]) + raw[i + 1 :])
        out.append(raw[:i] + raw[i + 1 :])  # deletion
        out.append(raw[:i])  # truncation
        if i:
            out.append(raw[:i] + b"0" + raw[i:])  # insertion after the <LF>
    return out


@pytest.mark.parametrize("fmt", ["hex", "binary"])
def test_every_single_corruption_of_a_frame_spares_the_next_one(fmt: str) -> None:
    damaged = encode_frame(token="SIA-DCS", sequence=1, account="1234", data="#1234|Nri1/PA01", crc_format=fmt)  # type: ignore[arg-type]
    intact = encode_frame(token="NULL", sequence=2, account="ABC", crc_format=fmt)  # type: ignore[arg-type]
    for bad in _single_corruptions(damaged):
        stream = bad + intact
        dec = decoder()
        whole = [o.sequence for o in dec.feed(stream, now=NOW)]
        trickle = decoder()
        one_by_one = [o.sequence for i in range(len(stream)) for o in trickle.feed(stream[i : i + 1], now=NOW)]
        assert whole == [2], bad
        assert one_by_one == [2], bad
        assert dec.buffered == 0


# --- CRC variants --------------------------------------------------------------------------------


def test_binary_crc_variant() -> None:
    raw = encode_frame(token="SIA-DCS", sequence=7, account="1234", data="#1234|Nri1/PA01", crc_format="binary")
    crc = crc16_arc(raw[7:-1])
    assert raw[1:3] == crc.to_bytes(2, "big")
    assert raw[3:7] == f"{len(raw) - 8:04X}".encode()
    for fmt in ("binary", "auto"):
        (out,) = decoder(crc_format=fmt).feed(raw, now=NOW)
        assert out.accepted
        assert out.reply[7:8] == b'"'
        assert out.reply[1:3] == crc16_arc(out.reply[7:-1]).to_bytes(2, "big")
    dec = decoder(crc_format="hex")
    assert dec.feed(raw, now=NOW) == []
    assert dec.counters.garbage_bytes == len(raw)
    assert decoder(crc_format="binary").feed(wire(GOLDEN[1][0]), now=NOW) == []


def test_auto_mode_handles_mixed_formats_in_one_stream() -> None:
    frames = [
        encode_frame(token="NULL", sequence=i, account="ABC", crc_format="binary" if i % 2 else "hex")
        for i in range(1, 7)
    ]
    out = decoder().feed(b"".join(frames), now=NOW)
    assert [o.sequence for o in out] == [1, 2, 3, 4, 5, 6]


# --- encryption ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [16, 24, 32])
def test_encryption_round_trip_all_key_sizes(size: int) -> None:
    key = bytes(random.Random(size).randrange(256) for _ in range(size))
    tx = Dc09Transmitter(account="5A5A", key=key, receiver="12")
    seq, raw = tx.frame(Dc09Token.ADM_CID, "#5A5A|1120 01 003", extended=["Xhello"], now=NOW)
    assert raw.startswith(b"\n")
    assert b'"*ADM-CID"0001R12L0#5A5A[' in raw
    assert b"1120" not in raw
    dec = Dc09Decoder(keys={"5a5a": key})
    (out,) = dec.feed(raw, now=NOW + timedelta(seconds=1))
    assert out.accepted
    assert out.message is not None
    assert (out.message.data, out.message.extended, out.message.timestamp) == ("#5A5A|1120 01 003", ("Xhello",), NOW)
    assert b'"*ACK"0001R12L0#5A5A[' in out.reply
    (ack,) = tx.feed(out.reply)
    assert (ack.kind, ack.encrypted, ack.sequence, ack.timestamp) == (
        ResponseKind.ACK,
        True,
        seq,
        NOW + timedelta(seconds=1),
    )


def test_random_padding_differs_and_never_holds_delimiters() -> None:
    key = bytes(16)
    frames = {
        encode_frame(token="SIA-DCS", sequence=1, account="123", data="x", timestamp=NOW, key=key) for _ in range(5)
    }
    assert len(frames) == 5
    for n in range(1, 40):
        hexed = encrypt_hex(key, "a" * n, rng=lambda k: bytes([ord("|"), ord("["), ord("]")] * k)[:k])
        plain = decrypt_hex(key, hexed)
        assert plain == "a" * n
        assert len(hexed) % 32 == 0


def test_wrong_key_gets_duh_and_unknown_key_gets_duh() -> None:
    raw = encode_frame(
        token="SIA-DCS", sequence=3, account="1234", data="#1234|Nri1/PA1", timestamp=NOW, key=bytes(16), rng=fixed_rng
    )
    (out,) = Dc09Decoder(keys={"1234": b"\x01" * 16}).feed(raw, now=NOW)
    assert (out.verdict, out.reason) == (ResponseKind.DUH, "undecryptable")
    (out,) = Dc09Decoder(keys={"9999": bytes(16)}).feed(raw, now=NOW)
    assert (out.verdict, out.reason) == (ResponseKind.DUH, "unknown-account-key")
    assert out.reply == encode_response("DUH", sequence=3, account="1234", prefix="0")


@pytest.mark.parametrize("seed", range(100))
def test_a_wrong_key_is_always_undecryptable_whatever_the_pad(seed: int) -> None:
    """Decrypted with a wrong key the text is random and may hold a ``|`` and a ``]`` by chance (the
    flaky "missing-timestamp"); only printable text that parses with its timestamp is accepted."""
    pad = random.Random(seed).randbytes
    raw = encode_frame(
        token="SIA-DCS", sequence=3, account="1234", data="#1234|Nri1/PA1", timestamp=NOW, key=bytes(16), rng=pad
    )
    wrong = random.Random(-seed).randbytes(16)
    (out,) = Dc09Decoder(keys={"1234": wrong}).feed(raw, now=NOW)
    assert (out.verdict, out.reason) == (ResponseKind.DUH, "undecryptable")


def test_random_plaintext_that_looks_like_a_tail_is_undecryptable_not_missing_timestamp() -> None:
    """The failure seen once, made deterministic: the "decrypted" text holds a pad mark and a ``]``
    but also bytes no panel sends."""
    key = bytes(16)
    garbage = "\x8f" * 28 + "|\x9ax]"  # old codec: pad, mark, data "\x9ax", no timestamp
    enc = Cipher(algorithms.AES(key), modes.CBC(bytes(16))).encryptor()
    hexed = (enc.update(garbage.encode("latin-1")) + enc.finalize()).hex().upper()
    (out,) = Dc09Decoder(keys={"1234": key}).feed(frame_span(f'"*SIA-DCS"0001L0#1234[{hexed}'.encode()), now=NOW)
    assert (out.verdict, out.reason) == (ResponseKind.DUH, "undecryptable")


def test_encrypted_frame_needs_timestamp() -> None:
    with pytest.raises(Dc09EncodeError):
        encode_frame(token="SIA-DCS", sequence=1, account="1234", key=bytes(16))
    hexed = encrypt_hex(bytes(16), "#1234|Nri1/PA1]", rng=fixed_rng)
    (out,) = Dc09Decoder(keys={"1234": bytes(16)}).feed(frame_span(f'"*SIA-DCS"0001L0#1234[{hexed}'.encode()), now=NOW)
    assert (out.verdict, out.reason) == (ResponseKind.DUH, "missing-timestamp")


def test_require_encryption_rejects_cleartext_from_keyed_account() -> None:
    dec = Dc09Decoder(keys={"1234": bytes(32)}, require_encryption=True, check_time=False)
    (out,) = dec.feed(wire(GOLDEN[1][0]), now=NOW)
    assert (out.verdict, out.reason) == (ResponseKind.DUH, "encryption-required")


def test_bad_keys_are_refused_up_front() -> None:
    with pytest.raises(ValueError, match="16, 24 or 32"):
        Dc09Decoder(keys={"1234": bytes(15)})
    with pytest.raises(Dc09CryptoError):
        decrypt_hex(bytes(16), "ABC")
    with pytest.raises(Dc09EncodeError):
        encode_frame(token="NULL", sequence=1, account="123", timestamp=NOW, key=bytes(20))


# --- time window -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "verdict"),
    [
        (-40, ResponseKind.ACK),
        (-41, ResponseKind.NAK),
        (20, ResponseKind.ACK),
        (21, ResponseKind.NAK),
        (0, ResponseKind.ACK),
    ],
)
def test_time_window(offset: int, verdict: ResponseKind) -> None:
    raw = encode_frame(
        token="SIA-DCS", sequence=5, account="ABC", data="#ABC|Nri1/PA01", timestamp=NOW + timedelta(seconds=offset)
    )
    dec = Dc09Decoder()
    (out,) = dec.feed(raw, now=NOW)
    assert out.verdict is verdict
    if verdict is ResponseKind.NAK:
        assert out.reason == "time-window"
        assert out.message is not None
        assert not out.accepted
        (nak,) = Dc09ResponseDecoder().feed(out.reply)
        assert (nak.kind, nak.sequence, nak.encrypted, nak.timestamp) == (ResponseKind.NAK, 0, False, NOW)
        assert dec.counters.naks == 1
        assert dec.counters.frames_ok == 0


def test_nak_is_never_encrypted_and_window_is_configurable() -> None:
    key = bytes(24)
    raw = encode_frame(
        token="SIA-DCS", sequence=5, account="ABC", data="x", timestamp=NOW - timedelta(minutes=5), key=key
    )
    (out,) = Dc09Decoder(keys={"ABC": key}).feed(raw, now=NOW)
    assert out.verdict is ResponseKind.NAK
    assert b'"NAK"0000R0L0A0[]_08:30:00,03-01-2024' in out.reply
    (out,) = Dc09Decoder(keys={"ABC": key}, max_age=600).feed(raw, now=NOW)
    assert out.accepted
    (out,) = Dc09Decoder(keys={"ABC": key}, check_time=False).feed(raw, now=NOW)
    assert out.accepted


def test_accounts_exempt_from_the_time_check_are_acked_and_others_still_nakked() -> None:
    old = NOW - timedelta(hours=1)  # a panel whose clock is an hour behind
    exempt = encode_frame(token="SIA-DCS", sequence=7, account="1a2b", data="#1A2B|Nri1/PA01", timestamp=old)
    other = encode_frame(token="SIA-DCS", sequence=8, account="CCC", data="#CCC|Nri1/PA01", timestamp=old)
    dec = Dc09Decoder(time_check_exempt=["1A2B"])  # case-insensitive, as accounts are hex
    (a,) = dec.feed(exempt, now=NOW)
    (b,) = dec.feed(other, now=NOW)
    assert a.verdict is ResponseKind.ACK and a.accepted
    assert b.verdict is ResponseKind.NAK and b.reason == "time-window"


# --- encoders ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sequence": 10000},
        {"sequence": -1},
        {"account": "12"},
        {"account": "XYZ1"},
        {"data": "a]b"},
        {"data": "a\rb"},
        {"receiver": "G1"},
        {"token": "*SIA-DCS"},
        {"token": "sia-dcs"},
        {"data": "中文"},
        {"data": "x" * 5000},
    ],
)
def test_encode_frame_rejects_bad_arguments(kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {"token": "SIA-DCS", "sequence": 1, "account": "1234", "data": ""}
    args.update(kwargs)
    with pytest.raises(Dc09EncodeError):
        encode_frame(**args)  # type: ignore[arg-type]


def test_encode_response_shapes() -> None:
    assert encode_response("ACK", sequence=12, account="ABC", receiver="1", prefix="2") == frame_span(
        b'"ACK"0012R1L2#ABC[]'
    )
    assert encode_response(ResponseKind.DUH, sequence=9, account="ABC") == frame_span(b'"DUH"0009L0#ABC[]')
    with pytest.raises(Dc09EncodeError):
        encode_response("NAK")
    with pytest.raises(Dc09EncodeError):
        encode_response("ACK", sequence=1)
    with pytest.raises(Dc09EncodeError):
        encode_response("ACK", sequence=1, account="ABC", key=bytes(16))


def test_transmitter_sequence_wraps_to_one() -> None:
    tx = Dc09Transmitter(account="ABC", first_sequence=9998)
    assert [tx.frame("NULL")[0] for _ in range(3)] == [9998, 9999, 1]
    assert tx.frame("NULL", sequence=9999)[0] == 9999
    assert tx.next_sequence == 2
    with pytest.raises(ValueError, match="16, 24 or 32"):
        Dc09Transmitter(account="ABC", key=bytes(7))


# --- property tests ----------------------------------------------------------------------------

_TEXT = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="[]"), max_size=40)
_KEYS = {"A1B2": bytes(range(16)), "C3D4": bytes(range(24)), "E5F6": bytes(range(32))}


@st.composite
def frames(draw: st.DrawFn) -> tuple[bytes, tuple[object, ...]]:
    account = draw(st.sampled_from(["1234", "ABC", "0123456789ABCDEF", *_KEYS]))
    encrypted = account in _KEYS and draw(st.booleans())
    token = draw(st.sampled_from(list(Dc09Token)))
    seq = draw(st.integers(0, 9999))
    data = draw(_TEXT)
    extended = tuple(draw(st.lists(_TEXT, max_size=2)))
    timestamp = NOW - timedelta(seconds=draw(st.integers(0, 30))) if encrypted or draw(st.booleans()) else None
    raw = encode_frame(
        token=token,
        sequence=seq,
        account=account,
        data=data,
        extended=extended,
        receiver=draw(st.none() | st.sampled_from(["0", "F3", "ABCDEF"])),
        prefix=draw(st.none() | st.sampled_from(["0", "77"])),
        timestamp=timestamp,
        key=_KEYS[account] if encrypted else None,
        crc_format=draw(st.sampled_from(["hex", "binary"])),
        rng=fixed_rng,
    )
    return raw, (token, seq, account, data, extended, timestamp, encrypted)


def _ident(m: Dc09Message | None) -> tuple[object, ...]:
    assert m is not None
    return (m.token, m.sequence, m.account, m.data, m.extended, m.timestamp, m.encrypted)


def _chunked(stream: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(stream) + 1) for c in cuts})
    return [stream[a:b] for a, b in itertools.pairwise([0, *points, len(stream)])]


def _decode(chunks: list[bytes]) -> tuple[list[tuple[object, ...]], Dc09Decoder]:
    dec = Dc09Decoder(keys=_KEYS, rng=fixed_rng)
    out = [_ident(o.message) for chunk in chunks for o in dec.feed(chunk, now=NOW)]
    return out, dec


_GARBAGE = st.binary(max_size=12).map(lambda b: b.replace(b"\r", b"?"))  # may hold LF, never CR


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(frames(), _GARBAGE), min_size=1, max_size=6), st.lists(st.integers(0, 10**6), max_size=12))
def test_split_merged_frames_with_garbage_decode_exactly_once(
    items: list[tuple[tuple[bytes, tuple[object, ...]], bytes]], cuts: list[int]
) -> None:
    stream = b"".join(garbage + raw for (raw, _), garbage in items)
    decoded, dec = _decode(_chunked(stream, cuts))
    assert decoded == [ident for (_, ident), _ in items]
    assert dec.counters.frames_ok == len(items)
    assert dec.counters.rejected == 0


@st.composite
def corrupted(draw: st.DrawFn, raw: bytes) -> bytes:
    op = draw(st.sampled_from(["flip", "delete", "insert", "truncate"]))
    i = draw(st.integers(0, len(raw) - 1))
    if op == "flip":
        new = draw(st.integers(0, 255).filter(lambda b: b != raw[i] and not _case_only(raw, i, b)))
        return raw[:i] + bytes([new]) + raw[i + 1 :]
    if op == "delete":
        return raw[:i] + raw[i + 1 :]
    if op == "insert":  # after the <LF> (and no second <LF> right after it): else the frame is intact
        i = max(i, 1)
        return raw[:i] + bytes([draw(st.integers(0, 255).filter(lambda b: i > 1 or b != 0x0A))]) + raw[i:]
    return raw[:i]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.data(),
    st.lists(st.tuples(frames(), st.booleans()), min_size=1, max_size=6),
    st.lists(st.integers(0, 10**6), max_size=12),
)
def test_corrupted_frames_are_dropped_and_intact_ones_survive(
    data: st.DataObject, items: list[tuple[tuple[bytes, tuple[object, ...]], bool]], cuts: list[int]
) -> None:
    parts: list[bytes] = []
    expected: list[tuple[object, ...]] = []
    for (raw, ident), intact in items:
        if intact:
            parts.append(raw)
            expected.append(ident)
        else:
            parts.append(data.draw(corrupted(raw)))
    stream = b"".join(parts)
    decoded, _dec = _decode(_chunked(stream, cuts))
    whole, _ = _decode([stream])
    assert decoded == whole  # chunking never changes the result
    assert decoded == expected  # every intact frame exactly once, no damaged frame accepted


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.lists(st.integers(0, 400), max_size=8), st.sampled_from(["hex", "binary", "auto"]))
def test_arbitrary_bytes_never_raise(blob: bytes, cuts: list[int], fmt: str) -> None:
    dec = Dc09Decoder(keys=_KEYS, crc_format=fmt)  # type: ignore[arg-type]
    resp = Dc09ResponseDecoder(keys=_KEYS, crc_format=fmt)  # type: ignore[arg-type]
    framer = Dc09Framer(crc_format=fmt)  # type: ignore[arg-type]
    for chunk in _chunked(blob, cuts):
        for out in dec.feed(chunk, now=NOW):
            assert out.reply.startswith(b"\n")
            assert out.reply.endswith(b"\r")
        resp.feed(chunk)
        framer.feed(chunk)
    dec.flush()
    c = dec.counters
    assert c.garbage_bytes <= len(blob)


def test_codec_errors_share_one_base() -> None:
    for exc in (Dc09EncodeError, Dc09CryptoError):
        assert issubclass(exc, Dc09Error)


# --- the fuzz run, small ------------------------------------------------------------------------


def test_fuzz_run_small(monkeypatch: pytest.MonkeyPatch) -> None:
    path = ROOT / "scripts" / "fuzz_dc09.py"
    spec = importlib.util.spec_from_file_location("fuzz_dc09", path)
    assert spec is not None
    assert spec.loader is not None
    fuzz = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "fuzz_dc09", fuzz)  # dataclasses look their module up
    spec.loader.exec_module(fuzz)
    report = fuzz.run(inputs=5000, seed=7)
    assert report.failures == 0, "\n".join(report.lines())
    assert report.inputs == 5000
    assert report.verdicts["ACK"] > 0
    assert report.verdicts["NAK"] > 0
    assert report.verdicts["DUH"] > 0
    assert report.counters["crc_errors"] > 0
    assert report.counters["length_errors"] > 0
    assert report.counters["garbage_bytes"] > 0
    assert report.counters["format_errors"] > 0
