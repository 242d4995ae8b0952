"""ID card reader: SAM framing (golden vectors, resync, split/merge/corrupt), text block, pty reader."""

from __future__ import annotations

import asyncio
import logging
from datetime import date

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from drivers.idcard.reader import (
    FIND_CARD,
    LONG_TERM,
    PREAMBLE,
    READ_TEXT_PHOTO,
    SAM_STATUS,
    SELECT_CARD,
    CardRead,
    CardReadFailed,
    CardRemoved,
    CardTextError,
    CardType,
    Gender,
    IdCardData,
    IdCardReader,
    ReaderEvent,
    ReaderFault,
    ReaderStatus,
    SamChecksumError,
    SamCodec,
    SamCommand,
    SamCommandDecoder,
    SamFrameError,
    SamLengthError,
    SamReply,
    Sw3,
    decode_card_text,
    encode_command,
    encode_reply,
    parse_read_data,
)
from drivers.idcard.sim import DUMMY_PHOTO, IdCardReaderSimulator, encode_card_text

H = bytes.fromhex

RESIDENT = IdCardData(
    card_type=CardType.RESIDENT,
    name="张三丰",
    gender=Gender.MALE,
    birth_date=date(1949, 12, 31),
    id_number="11010519491231002X",
    valid_from=date(2015, 3, 1),
    valid_to=LONG_TERM,
    ethnicity_code="01",
    address="北京市西城区复兴门外大街999号院11号楼3单元502室",
    issuing_authority="北京市公安局西城分局",
    photo=bytes(range(256)) * 4,
)
HKMT = IdCardData(
    card_type=CardType.HKMT_RESIDENCE,
    name="陈大文",
    gender=Gender.FEMALE,
    birth_date=date(1990, 5, 6),
    id_number="810000199005060026",
    valid_from=date(2019, 1, 2),
    valid_to=date(2024, 1, 2),
    address="广东省深圳市福田区某路1号",
    issuing_authority="深圳市公安局",
    pass_number="H12345678",
    issue_count=2,
    photo=DUMMY_PHOTO,
)
FOREIGN = IdCardData(
    card_type=CardType.FOREIGN_PERMANENT,
    english_name="SMITH, JOHN ALEXANDER",
    name="史密斯",
    gender=Gender.MALE,
    id_number="CAN110080050101",
    nationality_code="CAN",
    birth_date=date(1980, 5, 1),
    valid_from=date(2018, 6, 1),
    valid_to=date(2028, 6, 1),
    card_version="1",
    authority_code="1100",
    photo=DUMMY_PHOTO,
)


# ----------------------------------------------------------------------------- golden frames


@pytest.mark.parametrize(
    ("command", "frame"),
    [
        (SAM_STATUS, "AAAAAA9669 0003 11FF ED"),
        (FIND_CARD, "AAAAAA9669 0003 2001 22"),
        (SELECT_CARD, "AAAAAA9669 0003 2002 21"),
        (READ_TEXT_PHOTO, "AAAAAA9669 0003 3001 32"),
    ],
)
def test_command_golden_frames(command: SamCommand, frame: str) -> None:
    assert encode_command(command) == H(frame)
    assert SamCommandDecoder().feed(H(frame)) == [command]


@pytest.mark.parametrize(
    ("frame", "sw3"),
    [
        ("AAAAAA9669 0004 000090 94", Sw3.OK),
        ("AAAAAA9669 0004 000080 84", Sw3.FIND_FAILED),
        ("AAAAAA9669 0004 000081 85", Sw3.SELECT_FAILED),
    ],
)
def test_reply_golden_frames(frame: str, sw3: Sw3) -> None:
    (reply,) = SamCodec().feed(H(frame))
    assert (reply.sw1, reply.sw2, reply.sw3, reply.data) == (0, 0, sw3, b"")
    assert reply.status is sw3
    assert encode_reply(reply) == H(frame)


def test_read_reply_layout_and_lengths() -> None:
    text = encode_card_text(RESIDENT)
    frame = encode_reply(SamReply(0, 0, 0x90, H("0100 0400") + text + RESIDENT.photo))
    assert len(frame) == 1295
    assert frame[:14] == H("AAAAAA9669 0508 000090 0100 0400")
    (reply,) = SamCodec().feed(frame)
    blocks = parse_read_data(reply.data)
    assert (blocks.text, blocks.photo, blocks.fingerprint) == (text, RESIDENT.photo, b"")
    assert decode_card_text(blocks.text, photo=blocks.photo) == RESIDENT


def test_read_data_with_fingerprint_and_bad_lengths() -> None:
    text = encode_card_text(RESIDENT)
    data = H("0100 0400 0200") + text + DUMMY_PHOTO + b"F" * 512
    blocks = parse_read_data(data)
    assert (blocks.text, blocks.photo, blocks.fingerprint) == (text, DUMMY_PHOTO, b"F" * 512)
    # Lengths are read, never assumed: a reader with a shorter photo still parses.
    assert parse_read_data(H("0100 0010") + text + b"p" * 16).photo == b"p" * 16
    with pytest.raises(SamLengthError):
        parse_read_data(H("0100 0400") + text)
    assert "bytes>" in repr(blocks)
    assert "WLT" not in repr(blocks)


# ----------------------------------------------------------------------------- resync and errors

OK = H("AAAAAA9669 0004 000090 94")
NO_CARD = H("AAAAAA9669 0004 000080 84")


def test_resync_on_preamble_with_stray_bytes() -> None:
    codec = SamCodec()
    assert codec.feed(H("00 FF AA AA 12 AA AA AA")) == []
    assert codec.feed(H("AAAAAA9669 0004 0000")) == []
    assert codec.feed(H("90 94") + NO_CARD[:3]) == [SamReply(0, 0, 0x90)]
    assert codec.feed(NO_CARD[3:]) == [SamReply(0, 0, 0x80)]
    assert codec.stray_bytes == 8  # 00 FF AA AA 12 and the three AA that preceded the real preamble


def test_bad_checksum_is_typed_counted_and_does_not_lose_the_next_frame() -> None:
    codec = SamCodec()
    bad = bytearray(OK)
    bad[-1] ^= 0x5A
    with pytest.raises(SamChecksumError) as info:
        codec.feed(NO_CARD + bytes(bad) + OK)
    assert info.value.decoded == (SamReply(0, 0, 0x80),)
    assert codec.checksum_errors == 1
    assert codec.feed(b"") == [SamReply(0, 0, 0x90)]


def test_corrupt_length_does_not_swallow_the_following_frame() -> None:
    codec = SamCodec()
    bad_len = H("AAAAAA9669 0008 000090 94")  # LEN says 8 but the frame carries 4
    with pytest.raises(SamChecksumError) as info:
        codec.feed(bad_len + NO_CARD)
    assert info.value.decoded == ()
    assert codec.feed(b"") == [SamReply(0, 0, 0x80)]


def test_impossible_length_is_typed_and_counted() -> None:
    codec = SamCodec(max_length=2000)
    with pytest.raises(SamLengthError):
        codec.feed(H("AAAAAA9669 0002 00 02"))
    with pytest.raises(SamLengthError):
        codec.feed(H("AAAAAA9669 FFFF"))
    assert codec.length_errors == 2
    assert codec.feed(OK) == [SamReply(0, 0, 0x90)]


def test_stale_partial_frame_is_abandoned_when_time_is_given() -> None:
    codec = SamCodec(frame_timeout=0.5)
    assert codec.feed(OK[:8], now=10.0) == []
    assert codec.feed(OK[8:], now=10.2) == [SamReply(0, 0, 0x90)]  # within the timeout: one frame
    codec2 = SamCodec(frame_timeout=0.5)
    assert codec2.feed(H("AAAAAA9669 0508 0000"), now=10.0) == []  # a read reply cut short
    assert codec2.feed(NO_CARD, now=11.0) == [SamReply(0, 0, 0x80)]
    assert codec2.stale_frames == 1


def test_codec_clear_forgets_partial_frames() -> None:
    codec = SamCodec()
    codec.feed(OK[:9])
    codec.clear()
    assert codec.feed(OK[9:] + NO_CARD) == [SamReply(0, 0, 0x80)]


def _collect(codec: SamCodec, chunks: list[bytes]) -> tuple[list[SamReply], int]:
    replies: list[SamReply] = []
    errors = 0
    for chunk in chunks:
        data = chunk
        while True:
            try:
                replies += codec.feed(data)
                break
            except SamFrameError as exc:
                errors += 1
                replies += [r for r in exc.decoded if isinstance(r, SamReply)]
                data = b""
    return replies, errors


replies_st = st.builds(
    SamReply,
    sw1=st.just(0),
    sw2=st.just(0),
    sw3=st.sampled_from(list(Sw3)),
    data=st.binary(max_size=300),
)
garbage_st = st.binary(max_size=12)


@settings(max_examples=150, deadline=None)
@given(
    items=st.lists(st.tuples(garbage_st, replies_st, st.booleans()), min_size=1, max_size=8),
    cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=12),
)
def test_split_merge_garbage_and_corruption(items: list[tuple[bytes, SamReply, bool]], cuts: list[int]) -> None:
    stream = bytearray()
    expected: list[SamReply] = []
    starts: list[int] = []
    corrupted = 0
    for garbage, reply, corrupt in items:
        frame = bytearray(encode_reply(reply))
        starts.append(len(stream) + len(garbage))
        if corrupt:
            frame[-1] ^= 0xA5
            corrupted += 1
        else:
            expected.append(reply)
        stream += garbage + frame
    # The only preambles in the stream are the real frame starts (garbage may hold partial ones).
    assume([i for i in range(len(stream)) if stream.startswith(PREAMBLE, i)] == starts)
    points = sorted({c % (len(stream) + 1) for c in cuts})
    chunks = [bytes(stream[a:b]) for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    codec = SamCodec()
    replies, errors = _collect(codec, chunks)
    assert replies == expected
    assert errors == corrupted == codec.checksum_errors


# ----------------------------------------------------------------------------- text block


def _ucs(value: str, size: int) -> bytes:
    raw = value.encode("utf-16-le")
    return raw + b" \x00" * ((size - len(raw)) // 2)


def test_decode_hand_built_resident_block() -> None:
    # Built field by field here, independently of encode_card_text.
    text = b"".join(
        [
            _ucs("李四", 30),
            _ucs("2", 2),
            _ucs("05", 4),
            _ucs("19880229", 16),
            _ucs("新疆乌鲁木齐市天山区解放南路1号", 70),
            _ucs("650102198802290028", 36),
            _ucs("乌鲁木齐市公安局天山区分局", 30),
            _ucs("20100101", 16),
            _ucs("20300101", 16),
            _ucs("", 36),
        ]
    )
    assert len(text) == 256
    card = decode_card_text(text, photo=b"xyz")
    assert card.card_type is CardType.RESIDENT
    assert (card.name, card.gender, card.ethnicity_code, card.ethnicity) == ("李四", Gender.FEMALE, "05", "维吾尔")
    assert card.birth_date == date(1988, 2, 29)
    assert card.address == "新疆乌鲁木齐市天山区解放南路1号"
    assert card.id_number == "650102198802290028"
    assert card.issuing_authority == "乌鲁木齐市公安局天山区分局"
    assert (card.valid_from, card.valid_to, card.long_term) == (date(2010, 1, 1), date(2030, 1, 1), False)
    assert card.photo == b"xyz"


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("01", "汉"),
        ("03", "回"),
        ("11", "满"),
        ("02", "蒙古"),
        ("04", "藏"),
        ("05", "维吾尔"),
        ("08", "壮"),
        ("06", "苗"),
        ("07", "彝"),
        ("10", "朝鲜"),
        ("99", ""),
    ],
)
def test_ethnicity_names(code: str, name: str) -> None:
    card = IdCardData(
        card_type=CardType.RESIDENT,
        name="王五",
        gender=Gender.MALE,
        birth_date=date(2000, 1, 1),
        id_number="110105200001010011",
        valid_from=date(2020, 1, 1),
        valid_to=date(2030, 1, 1),
        ethnicity_code=code,
    )
    assert decode_card_text(encode_card_text(card)).ethnicity == name


@pytest.mark.parametrize("card", [RESIDENT, HKMT, FOREIGN], ids=["resident", "J", "I"])
def test_layouts_round_trip(card: IdCardData) -> None:
    text = encode_card_text(card)
    assert len(text) == 256
    assert decode_card_text(text, photo=card.photo) == card


def test_type_marks_at_byte_248() -> None:
    assert encode_card_text(HKMT)[248:250] == "J".encode("utf-16-le")
    assert encode_card_text(FOREIGN)[248:250] == "I".encode("utf-16-le")
    j = decode_card_text(encode_card_text(HKMT))
    assert (j.pass_number, j.issue_count, j.ethnicity_code) == ("H12345678", 2, "")
    i = decode_card_text(encode_card_text(FOREIGN))
    assert (i.english_name, i.nationality_code, i.id_number) == ("SMITH, JOHN ALEXANDER", "CAN", "CAN110080050101")


cjk = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=1, max_size=15)
dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))


@settings(max_examples=60, deadline=None)
@given(
    name=cjk,
    birth=dates,
    start=dates,
    end=st.one_of(dates, st.just(LONG_TERM)),
    gender=st.sampled_from(list(Gender)),
    address=st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), max_size=35),
    eth=st.sampled_from(["01", "03", "11", "56", "97"]),
)
def test_resident_round_trip_property(
    name: str, birth: date, start: date, end: date, gender: Gender, address: str, eth: str
) -> None:
    card = IdCardData(
        card_type=CardType.RESIDENT,
        name=name,
        gender=gender,
        birth_date=birth,
        id_number="440524188001010014",
        valid_from=start,
        valid_to=end,
        ethnicity_code=eth,
        address=address,
        issuing_authority="某某公安局",
    )
    assert decode_card_text(encode_card_text(card)) == card


def test_malformed_text_errors_do_not_echo_content() -> None:
    with pytest.raises(CardTextError):
        decode_card_text(b"\x00" * 100)
    bad = bytearray(encode_card_text(RESIDENT))
    bad[36:52] = _ucs("19491399", 16)
    with pytest.raises(CardTextError, match="birth_date") as info:
        decode_card_text(bytes(bad))
    assert "1949" not in str(info.value)
    assert "张" not in str(info.value)
    bad = bytearray(encode_card_text(RESIDENT))
    bad[0:2] = b"\x00\xd8"  # lone surrogate
    with pytest.raises(CardTextError, match="name"):
        decode_card_text(bytes(bad))


def test_repr_and_str_mask_personal_fields() -> None:
    for shown in (repr(RESIDENT), str(RESIDENT), f"{RESIDENT}", repr(CardRead(RESIDENT)), str([RESIDENT])):
        assert "张三丰" not in shown
        assert "三丰" not in shown
        assert "11010519491231002X" not in shown
        assert "19491231" not in shown
        assert "复兴门" not in shown
        assert "北京市西城区" not in shown
        assert "110105********002X" in shown
        assert "张**" in shown
    shown = repr(FOREIGN) + repr(HKMT)
    assert "SMITH" not in shown
    assert "H12345678" not in shown
    assert "陈大文" not in shown


# ----------------------------------------------------------------------------- reader on a pty


async def _poll_until(reader: IdCardReader, want: type, polls: int = 10) -> list[ReaderEvent]:
    seen: list[ReaderEvent] = []
    for _ in range(polls):
        seen += await reader.poll_once()
        if any(isinstance(e, want) for e in seen):
            return seen
    return seen


async def test_reader_reads_each_placement_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with (
        IdCardReaderSimulator(stray_prefix=H("00 AA AA 13"), split_chunk=97) as sim,
        IdCardReader(sim.port, removal_polls=2) as reader,
    ):
        assert await reader.poll_once() == [ReaderStatus(None, "SAM ok")]
        sim.place_card(RESIDENT)
        events = await reader.poll_once()
        assert events == [CardRead(RESIDENT)]
        read = events[0]
        assert isinstance(read, CardRead)
        assert read.data.id_number == "11010519491231002X"
        assert read.data.name == "张三丰"
        assert read.data.valid_to is LONG_TERM
        assert read.data.photo == RESIDENT.photo
        for _ in range(3):  # the card stays: no second report
            assert await reader.poll_once() == []
        assert sim.reads == 4
        sim.remove_card()
        assert await reader.poll_once() == []  # one "no card" answer is not yet a removal
        assert await reader.poll_once() == [CardRemoved()]
        sim.place_card(RESIDENT)
        assert await reader.poll_once() == [CardRead(RESIDENT)]
        sim.remove_card()
        await reader.poll_once()
        sim.place_card(HKMT)  # swapped before removal was confirmed: still a new card
        assert await reader.poll_once() == [CardRead(HKMT)]
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    for secret in ("张三丰", "11010519491231002X", "陈大文", "810000199005060026", "复兴门"):
        assert secret not in logged


async def test_reader_events_iterator_and_minimum_interval() -> None:
    with pytest.raises(ValueError, match="poll_interval"):
        IdCardReader("loop://", poll_interval=0.1)
    async with IdCardReaderSimulator() as sim, IdCardReader(sim.port) as reader:
        sim.place_card(FOREIGN)
        got: list[ReaderEvent] = []
        async with asyncio.timeout(10):
            async for event in reader.events():
                got.append(event)
                if isinstance(event, CardRead):
                    break
        assert got == [ReaderStatus(None, "SAM ok"), CardRead(FOREIGN)]


async def test_reader_does_not_repeat_when_find_fails_after_a_read() -> None:
    async with IdCardReaderSimulator() as sim, IdCardReader(sim.port, removal_polls=2) as reader:
        sim.find_fails_after_read = 1  # some readers answer 80 once after a read, card still there
        sim.place_card(RESIDENT)
        events: list[ReaderEvent] = []
        for _ in range(6):
            events += await reader.poll_once()
        assert [e for e in events if isinstance(e, CardRead | CardRemoved)] == [CardRead(RESIDENT)]


async def test_reader_parses_fingerprint_variant_and_reports_unreadable_card_once() -> None:
    async with IdCardReaderSimulator(fingerprint=b"\x01" * 1024) as sim, IdCardReader(sim.port) as reader:
        sim.place_card(RESIDENT)
        assert CardRead(RESIDENT) in await _poll_until(reader, CardRead)
        sim.remove_card()
        await _poll_until(reader, CardRemoved)
        bad = bytearray(encode_card_text(RESIDENT))
        bad[188:204] = _ucs("2015XX01", 16)
        sim.place_raw_text(bytes(bad))
        events = await reader.poll_once() + await reader.poll_once()
        assert events == [CardReadFailed("valid_from: not a YYYYMMDD date")]


async def test_reader_reports_sam_fault_once_and_recovery(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with IdCardReaderSimulator() as sim, IdCardReader(sim.port) as reader:
        sim.sam_status = 0x60
        sim.place_card(RESIDENT)
        first = await reader.poll_once()
        assert [e for e in first if isinstance(e, ReaderStatus)] == [
            ReaderStatus(ReaderFault.SAM_SELF_TEST_FAILED, "SAM status SW3=60")
        ]
        assert await reader.poll_once() == []  # still failing: not reported again
        assert reader.status is not None
        assert not reader.status.ok
        sim.sam_status = 0x90
        assert await reader.poll_once() == [ReaderStatus(None, "SAM ok"), CardRead(RESIDENT)]
    assert sum("sam_self_test_failed" in r.getMessage() for r in caplog.records) == 1


async def test_reader_no_reply_and_corrupt_replies_become_faults() -> None:
    async with IdCardReaderSimulator() as sim, IdCardReader(sim.port, reply_timeout=0.15, fault_after=2) as reader:
        assert await reader.poll_once() == [ReaderStatus(None, "SAM ok")]
        sim.silent = True
        assert await reader.poll_once() == []  # one missed reply is tolerated
        assert await reader.poll_once() == [ReaderStatus(ReaderFault.NO_REPLY, "no reply")]
        sim.silent = False
        assert await reader.poll_once() == [ReaderStatus(None, "SAM ok")]
        sim.corrupt_replies = 4
        assert await reader.poll_once() == []
        events = await reader.poll_once()
        assert [e.fault for e in events if isinstance(e, ReaderStatus)] == [ReaderFault.LINK_ERRORS]
        assert reader.checksum_errors >= 2
        assert await _poll_until(reader, ReaderStatus) == [ReaderStatus(None, "SAM ok")]


async def test_reader_missing_port_is_a_fault_and_opens_lazily() -> None:
    async with IdCardReader("/dev/nonexistent-idcard-reader", reconnect_interval=60) as reader:
        events = await reader.poll_once()
        assert [e.fault for e in events if isinstance(e, ReaderStatus)] == [ReaderFault.PORT_UNAVAILABLE]
        assert await reader.poll_once() == []  # waits for the reconnect interval, reports nothing new


async def test_serial_link_over_a_socket_url_and_disconnect() -> None:
    from drivers.serialport.link import SerialLink, SerialLinkError

    peers: list[asyncio.StreamWriter] = []

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peers.append(writer)
        writer.write(await reader.readexactly(len(OK)))
        await writer.drain()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    link = SerialLink(f"socket://127.0.0.1:{port}", baudrate=115200)
    try:
        await link.open()
        await link.write(OK)
        got = b""
        while len(got) < len(OK):
            chunk = await link.read(max_wait=2.0)
            assert chunk, "echo did not come back"
            got += chunk
        assert SamCodec().feed(got) == [SamReply(0, 0, 0x90)]
        assert await link.read(max_wait=0.05) == b""
        peers[0].close()

        async def read_until_error() -> None:
            async with asyncio.timeout(5):
                while True:
                    await link.read(max_wait=0.1)

        with pytest.raises(SerialLinkError):
            await read_until_error()
        assert not link.is_open
    finally:
        await link.close()
        server.close()
        await server.wait_closed()
