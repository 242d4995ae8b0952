"""ESC/POS: golden commands, an independent decoder of the emitted bytes, status, pty printer."""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.escpos.printer import EscPosPrinter, PrinterFaultError
from drivers.escpos.receipt import (
    Align,
    EscPosStatusError,
    PrinterFault,
    PrinterStatus,
    QrErrorLevel,
    ReceiptBuilder,
    StatusKind,
    parse_status,
    status_query,
)
from drivers.escpos.sim import PrinterSimulator

H = bytes.fromhex


# ----------------------------------------------------------------------------- independent decoder
# Written from the ESC/POS command reference, sharing nothing with drivers.escpos.receipt. Unknown bytes fail.


@dataclass
class Line:
    text: str
    align: int
    bold: bool
    width: int
    height: int


@dataclass
class Decoded:
    lines: list[Line] = field(default_factory=list)
    qr_payloads: list[bytes] = field(default_factory=list)
    qr_settings: list[tuple[int, int]] = field(default_factory=list)  # (fn, value)
    cuts: list[str] = field(default_factory=list)
    inits: int = 0
    chinese_on: int = 0
    chinese_off: int = 0

    @property
    def texts(self) -> list[str]:
        return [line.text for line in self.lines]


def decode(data: bytes) -> Decoded:
    out = Decoded()
    pending = bytearray()
    align, bold, width, height, chinese = 0, False, 1, 1, False

    def flush() -> None:
        out.lines.append(Line(pending.decode("gb18030"), align, bold, width, height))
        pending.clear()

    i = 0
    while i < len(data):
        b = data[i]
        if b == 0x0A:
            flush()
            i += 1
        elif b == 0x1B:
            op = data[i + 1]
            if op == 0x40:
                out.inits += 1
                align, bold, width, height, chinese = 0, False, 1, 1, False
                i += 2
            elif op == 0x61:
                align = data[i + 2] % 48 if data[i + 2] >= 48 else data[i + 2]
                i += 3
            elif op == 0x45:
                bold = bool(data[i + 2] & 1)
                i += 3
            elif op == 0x64:
                flush()
                out.lines += [Line("", align, bold, width, height)] * (data[i + 2] - 1)
                i += 3
            else:
                raise AssertionError(f"unknown ESC {op:#x}")
        elif b == 0x1D:
            op = data[i + 1]
            if op == 0x21:
                width, height = (data[i + 2] >> 4) + 1, (data[i + 2] & 0x0F) + 1
                i += 3
            elif op == 0x56:
                m = data[i + 2]
                if m in (0, 48, 1, 49):
                    out.cuts.append("full" if m in (0, 48) else "partial")
                    i += 3
                elif m in (65, 66):
                    out.cuts.append(("full" if m == 65 else "partial") + f"+{data[i + 3]}")
                    i += 4
                else:
                    raise AssertionError(f"unknown GS V {m}")
            elif op == 0x28 and data[i + 2] == 0x6B:
                size = data[i + 3] + 256 * data[i + 4]
                body = data[i + 5 : i + 5 + size]
                assert len(body) == size, "GS ( k runs past the end"
                assert body[0] == 49, "not a QR symbol command"
                fn = body[1]
                if fn == 80:
                    assert body[2] == 48
                    out.qr_payloads.append(bytes(body[3:]))
                elif fn == 81:
                    assert body[2:] == b"0"
                    out.qr_settings.append((181, 0))
                elif fn == 65:
                    out.qr_settings.append((165, body[2]))
                elif fn in (67, 69):
                    out.qr_settings.append((100 + fn, body[2]))
                else:
                    raise AssertionError(f"unknown QR fn {fn}")
                i += 5 + size
            else:
                raise AssertionError(f"unknown GS {op:#x}")
        elif b == 0x1C:
            op = data[i + 1]
            assert op in (0x26, 0x2E), f"unknown FS {op:#x}"
            chinese = op == 0x26
            out.chinese_on += op == 0x26
            out.chinese_off += op == 0x2E
            i += 2
        elif b < 0x20 or b == 0x7F:
            raise AssertionError(f"stray control byte {b:#x} at {i}")
        elif b < 0x80:
            pending.append(b)
            i += 1
        else:
            assert chinese, "multi-byte text outside Chinese mode"
            second = data[i + 1]
            n = 4 if 0x30 <= second <= 0x39 else 2
            pending += data[i : i + n]
            i += n
    assert not pending, "text left without a line feed"
    return out


# ----------------------------------------------------------------------------- golden commands


def test_golden_basic_commands() -> None:
    assert ReceiptBuilder().line("abc").build() == H("1B40") + b"abc\n"
    assert ReceiptBuilder(initialize=False).align(Align.CENTER).bold().bold(False).build() == H("1B6101 1B4501 1B4500")
    assert ReceiptBuilder(initialize=False).size(width=2, height=3).double(False).build() == H("1D2112 1D2100")
    assert ReceiptBuilder(initialize=False).feed(4).cut().cut(partial=True, feed=0).build() == H(
        "1B6404 1D564103 1D5601"
    )
    assert ReceiptBuilder(initialize=False).line("警").build() == H("1C26 BEAF 0A 1C2E")


def test_golden_qr_sequence() -> None:
    built = ReceiptBuilder(initialize=False).qr("ABC", module_size=6, error_level=QrErrorLevel.M).build()
    assert built == H(
        "1D286B0400 3141 3200"  # 165: model 2
        "1D286B0300 3143 06"  # 167: module size 6
        "1D286B0300 3145 31"  # 169: error level M
        "1D286B0600 3150 30 414243"  # 180: store 3 bytes
        "1D286B0300 3151 30"  # 181: print
    )


def test_qr_rejects_control_bytes_and_bad_sizes() -> None:
    with pytest.raises(ValueError, match="control"):
        ReceiptBuilder().qr("a\x10\x04b")
    with pytest.raises(ValueError, match="payload"):
        ReceiptBuilder().qr("")
    with pytest.raises(ValueError, match="module"):
        ReceiptBuilder().qr("x", module_size=17)


# ----------------------------------------------------------------------------- receipts decode back


def _sample_receipt(charset: str = "gb18030") -> ReceiptBuilder:
    return (
        ReceiptBuilder(charset=charset)  # type: ignore[arg-type]
        .align(Align.CENTER)
        .double()
        .bold()
        .line("智慧街面警务站")
        .bold(False)
        .double(False)
        .line("业务回执 Receipt")
        .align(Align.LEFT)
        .line("业务：居住证申请")
        .line("受理号：2024-000123")
        .line("时间：2024-05-06 10:30")
        .align(Align.CENTER)
        .qr("https://example.cn/r/2024-000123?办理=居住证", module_size=5, error_level=QrErrorLevel.Q)
        .line("请妥善保管本回执")
        .feed(3)
        .cut()
    )


def test_receipt_decodes_to_expected_text_qr_and_cut() -> None:
    receipt = _sample_receipt()
    decoded = decode(receipt.build())
    assert decoded.inits == 1
    assert (decoded.chinese_on, decoded.chinese_off) == (1, 1)
    assert decoded.texts == [
        "智慧街面警务站",
        "业务回执 Receipt",
        "业务：居住证申请",
        "受理号：2024-000123",
        "时间：2024-05-06 10:30",
        "请妥善保管本回执",
        "",
        "",
        "",
    ]
    title = decoded.lines[0]
    assert (title.align, title.bold, title.width, title.height) == (1, True, 2, 2)
    assert (decoded.lines[2].align, decoded.lines[2].bold, decoded.lines[2].width) == (0, False, 1)
    assert decoded.qr_payloads == ["https://example.cn/r/2024-000123?办理=居住证".encode()]
    assert decoded.qr_settings == [(165, 50), (167, 5), (169, 50), (181, 0)]
    assert decoded.cuts == ["full+3"]
    assert receipt.replaced == ()


def test_gb2312_printer_gets_a_visible_marker_and_a_report() -> None:
    # 𠈌 (CJK Ext. B) and 镕 (GBK only) are outside GB2312; ESC and TAB are control characters.
    receipt = ReceiptBuilder(charset="gb2312").line("姓名：朱镕基 王𠈌").line("备注\x1b@\tx").line("张𠈌")
    data = receipt.build()
    assert decode(data).texts == ["姓名：朱〓基 王〓", "备注〓@〓x", "张〓"]
    assert receipt.replaced == ("镕", "𠈌", "\x1b", "\t")
    assert receipt.replaced_count == 5
    assert b"?" not in data


def test_wider_charsets_print_what_they_can() -> None:
    gbk = ReceiptBuilder(charset="gbk").line("朱镕基 王𠈌")
    assert decode(gbk.build()).texts == ["朱镕基 王〓"]
    assert gbk.replaced == ("𠈌",)
    gb18030 = ReceiptBuilder(charset="gb18030").line("朱镕基 王𠈌")
    assert decode(gb18030.build()).texts == ["朱镕基 王𠈌"]
    assert gb18030.replaced == ()


def test_custom_replacement_and_invalid_settings() -> None:
    receipt = ReceiptBuilder(charset="gb2312", replacement="□").line("a𠈌b")
    assert decode(receipt.build()).texts == ["a□b"]
    with pytest.raises(ValueError, match="replacement"):
        ReceiptBuilder(charset="gb2312", replacement="𠈌")
    with pytest.raises(ValueError, match="charset"):
        ReceiptBuilder(charset="big5")  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=40), charset=st.sampled_from(["gb2312", "gbk", "gb18030"]))
def test_any_text_prints_char_for_char_or_is_reported(text: str, charset: str) -> None:
    receipt = ReceiptBuilder(charset=charset).line(text)  # type: ignore[arg-type]
    printed = "\n".join(decode(receipt.build()).texts)
    assert len(printed) == len(text)
    for original, shown in zip(text, printed, strict=True):
        if original == shown:
            assert original not in receipt.replaced or original == "〓"
        else:
            assert shown == "〓"
            assert original in receipt.replaced
            assert original != "\n"
    for char in receipt.replaced:  # anything replaced really is unprintable or a control
        cat = unicodedata.category(char)
        assert cat[0] == "C" or _not_in(char, charset)


def _not_in(char: str, charset: str) -> bool:
    try:
        char.encode(charset)
    except UnicodeEncodeError:
        return True
    return False


# ----------------------------------------------------------------------------- status bytes


def test_status_queries_and_parsing() -> None:
    assert [status_query(k) for k in StatusKind] == [H("100401"), H("100402"), H("100403"), H("100404")]
    ready = PrinterStatus.from_bytes(0x12, 0x12, 0x12, 0x12)
    assert ready.ok
    assert ready.online
    assert ready.faults == ()
    out = PrinterStatus.from_bytes(0x1A, 0x32, 0x12, 0x7E)
    assert (out.online, out.paper_out, out.paper_near_end) == (False, True, True)
    assert out.faults == (PrinterFault.PAPER_OUT,)
    cover = PrinterStatus.from_bytes(0x1A, 0x16, 0x12, 0x12)
    assert cover.faults == (PrinterFault.COVER_OPEN,)
    low = PrinterStatus.from_bytes(0x12, 0x12, 0x12, 0x1E)
    assert low.ok
    assert low.warnings == (PrinterFault.PAPER_NEAR_END,)
    cutter = PrinterStatus.from_bytes(0x1A, 0x52, 0x1A, 0x12)
    assert cutter.faults == (PrinterFault.CUTTER_ERROR,)
    assert PrinterStatus.from_bytes(0x1A, 0x12, 0x12, 0x12).faults == (PrinterFault.OFFLINE,)
    for bad in (0x00, 0x13, 0x92, 0xFF, 0x02):
        with pytest.raises(EscPosStatusError):
            parse_status(bad)
    assert PrinterFault.PAPER_OUT.message_zh == "打印纸已用完"


def test_simulator_answers_split_and_embedded_queries() -> None:
    sim = PrinterSimulator(paper_out=True)
    sim.receive(b"ab\x10")
    sim.receive(b"\x04")
    sim.receive(b"\x04cd\x10\x04\x01")
    assert bytes(sim.received) == b"abcd"
    assert sim.status_queries == [4, 1]


# ----------------------------------------------------------------------------- printer on a pty


async def test_receipt_reaches_the_printer_intact() -> None:
    receipt = _sample_receipt()
    async with PrinterSimulator() as sim, EscPosPrinter(sim.port, status_timeout=0.5) as printer:
        status = await printer.print_receipt(receipt)
        assert status.ok
        assert decode(bytes(sim.received)).texts[0] == "智慧街面警务站"
        assert bytes(sim.received) == receipt.build()
        assert sim.status_queries == [1, 2, 3, 4, 1, 2, 3, 4]


async def test_paper_out_and_cover_open_become_faults(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with PrinterSimulator(paper_out=True) as sim, EscPosPrinter(sim.port, status_timeout=0.5) as printer:
        with pytest.raises(PrinterFaultError) as info:
            await printer.print_receipt(ReceiptBuilder().line("张三 13812345678"))
        assert info.value.faults == (PrinterFault.PAPER_OUT,)
        assert info.value.status is not None
        assert info.value.status.paper_out
        assert info.value.message_zh == "打印纸已用完"
        assert bytes(sim.received) == b""  # nothing sent into a printer that cannot print
        sim.paper_out, sim.cover_open = False, True
        with pytest.raises(PrinterFaultError) as info:
            await printer.print_receipt(b"x\n")
        assert info.value.faults == (PrinterFault.COVER_OPEN,)
        sim.cover_open, sim.paper_near_end = False, True
        status = await printer.print_receipt(ReceiptBuilder().line("张三 13812345678"))
        assert status.warnings == (PrinterFault.PAPER_NEAR_END,)
    assert "张三" not in caplog.text
    assert "13812345678" not in caplog.text
    assert sum("PAPER_OUT" in r.getMessage() for r in caplog.records) == 1


async def test_no_answer_and_missing_port_are_faults() -> None:
    async with PrinterSimulator(silent=True) as sim, EscPosPrinter(sim.port, status_timeout=0.2) as printer:
        with pytest.raises(PrinterFaultError) as info:
            await printer.status()
        assert info.value.faults == (PrinterFault.NO_ANSWER,)
        sim.silent = False
        assert (await printer.status()).ok
    async with EscPosPrinter("/dev/nonexistent-receipt-printer") as printer:
        with pytest.raises(PrinterFaultError) as info:
            await printer.print_receipt(b"x\n")
        assert info.value.faults == (PrinterFault.PORT_UNAVAILABLE,)
