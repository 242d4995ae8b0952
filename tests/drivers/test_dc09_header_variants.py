"""Header variants that real panels send: every frame with a good CRC and length is answered (ACK,
NAK or DUH, as SIA DC-09 says), never met with silence, and with the right kind of answer."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.dc09.codec import Dc09Decoder, Dc09Message, Dc09Response, ResponseKind, encode_frame, encode_response
from drivers.dc09.frame import format_timestamp, frame_span
from drivers.dc09.receiver import Dc09Server
from drivers.dc09.sender import Dc09ResponseDecoder

NOW = datetime(2024, 3, 1, 8, 30, 0, tzinfo=UTC)
KEY = bytes(range(16))

# (span, verdict, reason, sequence, account, receiver, prefix) -- the answer each variant must get
VARIANTS = {
    "receiver field": ('"SIA-DCS"0007R1L0#1234[#1234|Nri1/PA501]', "ACK", "", 7, "1234", "1", "0"),
    "receiver field, 6 hex": ('"SIA-DCS"0007RABCDEFL12#1234[#1234|Nri1/PA501]', "ACK", "", 7, "1234", "ABCDEF", "12"),
    "empty line field": ('"SIA-DCS"0008L#1234[#1234|Nri1/PA501]', "ACK", "", 8, "1234", None, ""),
    "absent line field": ('"SIA-DCS"0009#1234[#1234|Nri1/PA501]', "ACK", "", 9, "1234", None, None),
    "receiver, no line field": ('"SIA-DCS"0009R2#1234[#1234|Nri1/PA501]', "ACK", "", 9, "1234", "2", None),
    "lower-case hex fields": ('"SIA-DCS"0010Rab1Lc#12ab[#12ab|Nri1/PA501]', "ACK", "", 10, "12ab", "ab1", "c"),
    "account only in the data block": ('"SIA-DCS"0011L0[#1234|Nri1/PA501]', "ACK", "", 11, "1234", None, "0"),
    "Contact ID, account only in data": ('"ADM-CID"0012L0[#1002|1120 01 001]', "ACK", "", 12, "1002", None, "0"),
    "account only in data, no L": ('"SIA-DCS"0013[#1234|Nri1/PA501]', "ACK", "", 13, "1234", None, None),
    "no account anywhere": ('"SIA-DCS"0014L0[Nri1/PA501]', "DUH", "missing-account", 14, "", None, "0"),
    "link test without account": ('"NULL"0000L0[]', "DUH", "missing-account", 0, "", None, "0"),
    "encrypted, account only in data": (
        '"*SIA-DCS"0015L0[00112233445566778899AABBCCDDEEFF',
        "DUH",
        "unknown-account-key",
        15,
        "",
        None,
        "0",
    ),
    "lower-case token": ('"sia-dcs"0016L0#1234[]', "DUH", "malformed-header", 16, "1234", None, "0"),
    "short sequence": ('"SIA-DCS"16L0#1234[]', "DUH", "malformed-header", 0, "", None, None),
    "no data block": ('"SIA-DCS"0017L0#1234', "DUH", "malformed-header", 17, "1234", None, "0"),
    "unknown token": ('"SIA-XYZ"0018L0#1234[]', "DUH", "unsupported-token", 18, "1234", None, "0"),
    "time outside the window": (
        f'"SIA-DCS"0019L0#1234[#1234|Nri1/PA501]{format_timestamp(NOW - timedelta(hours=1))}',
        "NAK",
        "time-window",
        19,
        "1234",
        None,
        "0",
    ),
}


@pytest.mark.parametrize("name", list(VARIANTS))
@pytest.mark.parametrize("crc", ["upper", "lower"])
def test_each_header_variant_gets_the_right_answer(name: str, crc: str) -> None:
    span, verdict, reason, sequence, account, receiver, prefix = VARIANTS[name]
    raw = frame_span(span.encode("latin-1"))
    if crc == "lower":
        raw = raw[:9].lower() + raw[9:]  # CRC and LEN in lower-case hex
    (out,) = Dc09Decoder(keys={"5678": KEY}).feed(raw, now=NOW)
    assert (out.verdict.value, out.reason, out.sequence, out.account) == (verdict, reason, sequence, account)
    (answer,) = Dc09ResponseDecoder().feed(out.reply)
    assert (answer.kind.value, answer.sequence) == (verdict, 0 if verdict == "NAK" else sequence)
    if verdict != "NAK":
        assert answer.account == (account or None)
        assert answer.receiver == receiver
        assert answer.prefix == (prefix or "0")  # an absent or empty line field is answered L0
    if verdict == "ACK":
        assert out.message is not None
        assert (out.message.account, out.message.receiver, out.message.prefix) == (account, receiver, prefix)


def test_account_in_the_data_block_is_checked_against_its_key() -> None:
    """The key (and require_encryption) of an account named only in the data block still applies."""
    raw = frame_span(b'"SIA-DCS"0011L0[#5678|Nri1/PA501]')
    (out,) = Dc09Decoder(keys={"5678": KEY}, require_encryption=True).feed(raw, now=NOW)
    assert (out.verdict, out.reason, out.account) == (ResponseKind.DUH, "encryption-required", "5678")


def test_encrypted_frame_with_receiver_and_empty_line_field_gets_encrypted_ack() -> None:
    raw = encode_frame(
        token="SIA-DCS",
        sequence=21,
        account="5678",
        data="#5678|Nri1/PA501",
        receiver="9",
        prefix=None,
        timestamp=NOW,
        key=KEY,
    )
    raw = raw.replace(b"R9#", b"R9L#")  # an empty line field, the frame's CRC and LEN made again
    raw = frame_span(raw[9:-1])
    (out,) = Dc09Decoder(keys={"5678": KEY}).feed(raw, now=NOW)
    assert (out.verdict, out.account, out.sequence) == (ResponseKind.ACK, "5678", 21)
    (answer,) = Dc09ResponseDecoder(keys={"5678": KEY}).feed(out.reply)
    assert (answer.kind, answer.encrypted, answer.receiver, answer.timestamp) == (ResponseKind.ACK, True, "9", NOW)


def test_a_duh_without_account_has_no_account_field() -> None:
    assert encode_response("DUH", sequence=3, account=None) == frame_span(b'"DUH"0003L0[]')
    with pytest.raises(ValueError, match="needs the account"):
        encode_response("ACK", sequence=3, account=None)


_SPAN = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)


@settings(max_examples=400, deadline=None)
@given(
    tail=_SPAN,
    seq=st.sampled_from(["", "0001", "12", "9999"]),
    token=st.sampled_from(["SIA-DCS", "ADM-CID", "NULL", "*SIA-DCS", "sia", "", "X"]),
)
def test_every_frame_with_good_crc_and_length_is_answered(tail: str, seq: str, token: str) -> None:
    """Whatever follows the opening quote: one answer per frame, one that a panel can decode."""
    raw = frame_span(f'"{token}"{seq}{tail}'.encode("latin-1"))
    results = Dc09Decoder(keys={"1234": KEY}).feed(raw, now=NOW)
    assert len(results) == 1
    (answer,) = Dc09ResponseDecoder().feed(results[0].reply)
    assert answer.kind is results[0].verdict


async def test_the_receiver_answers_every_variant_over_tcp() -> None:
    delivered: list[Dc09Message] = []

    def sink(message: Dc09Message, _peer: str) -> None:
        delivered.append(message)

    async with Dc09Server(on_message=sink, port_udp=None, keys={"5678": KEY}, utc_clock=lambda: NOW) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.tcp_port)
        try:
            answers = Dc09ResponseDecoder()
            for name, (span, verdict, _reason, sequence, _acct, _rcvr, _pref) in VARIANTS.items():
                writer.write(frame_span(span.encode("latin-1")))
                await writer.drain()
                got: list[Dc09Response] = []
                while not got:
                    chunk = await asyncio.wait_for(reader.read(4096), timeout=10)
                    assert chunk, f"connection closed without an answer to {name}"
                    got = answers.feed(chunk)
                wanted = (verdict, 0 if verdict == "NAK" else sequence)
                assert [(a.kind.value, a.sequence) for a in got] == [wanted], name
        finally:
            writer.close()
            await writer.wait_closed()
    assert {m.account for m in delivered} == {"1234", "12ab", "1002"}
