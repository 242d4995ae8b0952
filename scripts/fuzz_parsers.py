#!/usr/bin/env python3
"""Deterministic fuzz runs of the station's parsers beside DC-09 (scripts/fuzz_dc09.py covers DC-09).

Each target takes generated input and must either parse it or raise the parser's own error type;
any other exception is a failure (exit 1). Inputs are structure-aware: valid messages built with the
codecs' own builders, then mutated (digit swaps, Unicode look-alike digits, truncation, insertion,
deletion, duplication, case changes, separators), plus random text and bytes.

Targets:

* ``contact_id``: `parse_contact_id` (16-digit form) and `parse_adm_cid_data` (DC-09 ADM-CID block);
* ``sia_dcs``: `parse_sia_dcs`;
* ``idcard_text``: `decode_card_text` (GA/T 467 text block, UCS-2) and `parse_read_data`;
* ``idcard_frames``: the SAM reply and command decoders (framing, checksum, lengths), in random chunks;
* ``escpos_status``: `parse_status` over every byte value and beyond;
* ``modbus_reply``: `find_reply` over mutated RTU replies;
* ``config``: station TOML files through `parse_config` (after `tomllib`), and `--set` overrides.

Usage::

    python scripts/fuzz_parsers.py [--inputs 100000] [--seed 1] [--target NAME ...]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drivers.dc09.contact_id import (
    ContactIdError,
    build_adm_cid_data,
    build_contact_id,
    parse_adm_cid_data,
    parse_contact_id,
)
from drivers.dc09.sia_dcs import SiaDcsError, build_sia_dcs, parse_sia_dcs
from drivers.escpos.receipt import EscPosStatusError, parse_status
from drivers.idcard.sam import (
    FIND_CARD,
    READ_TEXT_PHOTO,
    SAM_STATUS,
    SamCodec,
    SamCommandDecoder,
    SamError,
    SamReply,
    encode_command,
    encode_reply,
    parse_read_data,
)
from drivers.idcard.text import IdCardError, decode_card_text
from drivers.modbus.logic import crc_ok, find_reply, with_crc
from edge.config.station import ConfigError, parse_config, set_dotted

# Characters that look like digits or separators to a person but are not ASCII.
_LOOKALIKES = "𝟙１٣۴०൫๖໗༨၉᠐０Ｏ|｜ \u00a0\u2007\t\n#＃/"
_ALNUM = "0123456789ABCDEFabcdef"


@dataclass
class Report:
    inputs: int = 0
    parsed: int = 0
    own_errors: int = 0
    failures: list[str] = field(default_factory=list)


def mutate_text(text: str, rng: random.Random) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(8)
        pos = rng.randrange(len(chars) + 1)
        if op == 0 and chars:
            chars[min(pos, len(chars) - 1)] = rng.choice(_ALNUM)
        elif op == 1 and chars:
            chars[min(pos, len(chars) - 1)] = rng.choice(_LOOKALIKES)
        elif op == 2:
            chars.insert(pos, rng.choice(_ALNUM + _LOOKALIKES + "|[]^/"))
        elif op == 3 and chars:
            del chars[min(pos, len(chars) - 1)]
        elif op == 4:
            chars = chars[:pos]
        elif op == 5 and chars:
            a = rng.randrange(len(chars))
            chars[a:a] = chars[a : a + rng.randint(1, 8)]
        elif op == 6:
            chars = [c.lower() if rng.random() < 0.5 else c.upper() for c in chars]
        else:
            chars.insert(pos, chr(rng.randrange(0x20, 0x3000)))
    return "".join(chars)


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(6)
        pos = rng.randrange(len(buf) + 1)
        if op == 0 and buf:
            buf[min(pos, len(buf) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1:
            buf.insert(pos, rng.randrange(256))
        elif op == 2 and buf:
            del buf[min(pos, len(buf) - 1)]
        elif op == 3:
            del buf[pos:]
        elif op == 4 and buf:
            a = rng.randrange(len(buf))
            buf[a:a] = buf[a : a + rng.randint(1, 16)]
        else:
            buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    return bytes(buf)


# ---- targets: each yields (description, thunk) pairs ------------------------------------------------
Case = tuple[str, Callable[[], object]]


def contact_id_cases(rng: random.Random) -> Iterator[Case]:
    while True:
        account = "".join(rng.choice("0123456789BCDEF") for _ in range(4))
        code, group, zone = rng.randrange(1000), rng.randrange(100), rng.randrange(1000)
        full = build_contact_id(account=account, qualifier=rng.choice((1, 3, 6)), code=code, group=group, zone=zone)
        adm = build_adm_cid_data(
            account=rng.choice((None, account)), qualifier=rng.choice((1, 3, 6)), code=code, group=group, zone=zone
        )
        text = mutate_text(full, rng) if rng.random() < 0.9 else full
        yield f"parse_contact_id({text!r})", lambda t=text: parse_contact_id(t)  # type: ignore[misc]
        text = mutate_text(adm, rng) if rng.random() < 0.9 else adm
        yield f"parse_adm_cid_data({text!r})", lambda t=text: parse_adm_cid_data(t)  # type: ignore[misc]


def sia_dcs_cases(rng: random.Random) -> Iterator[Case]:
    while True:
        data = build_sia_dcs(
            account=rng.choice((None, "1234", "ABCDEF")),
            code=rng.choice(("PA", "BA", "HA", "RP")),
            zone=str(rng.randrange(1000)),
            area=rng.choice((None, "1")),
            time=rng.choice((None, "12:30:00")),
            text=rng.choice((None, "gate")),
        )
        text = mutate_text(data, rng) if rng.random() < 0.9 else data
        yield f"parse_sia_dcs({text!r})", lambda t=text: parse_sia_dcs(t)  # type: ignore[misc]


def _card_text(rng: random.Random) -> bytes:
    fields = [
        "张三丰" + " " * 12,
        rng.choice("12"),
        "01",
        "19491231",
        "北京市东城区" + " " * 29,
        "11010519491231002X",
        "北京市公安局" + " " * 9,
        "20200101",
        rng.choice(("20400101", "长期    ")),
        " " * 18,
    ]
    return "".join(fields).encode("utf-16-le")[:256].ljust(256, b" \x00"[:1])


def idcard_text_cases(rng: random.Random) -> Iterator[Case]:
    while True:
        text = mutate_bytes(_card_text(rng), rng) if rng.random() < 0.9 else _card_text(rng)
        yield f"decode_card_text({text[:40]!r}...)", lambda t=text: decode_card_text(t)  # type: ignore[misc]
        blob = mutate_bytes(len(text).to_bytes(2, "big") + (1024).to_bytes(2, "big") + text + bytes(1024), rng)
        yield f"parse_read_data({blob[:40]!r}...)", lambda b=blob: parse_read_data(b)  # type: ignore[misc]


def idcard_frame_cases(rng: random.Random) -> Iterator[Case]:
    valid = [
        encode_command(SAM_STATUS),
        encode_command(FIND_CARD),
        encode_command(READ_TEXT_PHOTO),
        encode_reply(SamReply(0, 0, 0x90)),
        encode_reply(SamReply(0, 0, 0x9F, bytes(4))),
        encode_reply(SamReply(0, 0, 0x90, (256).to_bytes(2, "big") + (16).to_bytes(2, "big") + bytes(272))),
    ]

    def feed_chunks(decoder: SamCodec | SamCommandDecoder, data: bytes, cuts: list[int]) -> None:
        prev = 0
        for cut in [*cuts, len(data)]:
            decoder.feed(data[prev:cut], now=0.0)
            prev = cut

    while True:
        data = b"".join(
            mutate_bytes(rng.choice(valid), rng) if rng.random() < 0.8 else rng.choice(valid)
            for _ in range(rng.randint(1, 4))
        )
        cuts = sorted(rng.sample(range(len(data) + 1), k=min(3, len(data) + 1)))
        yield f"SamCodec.feed({data!r})", lambda d=data, c=cuts: feed_chunks(SamCodec(), d, c)  # type: ignore[misc]
        yield f"SamCommandDecoder.feed({data!r})", lambda d=data, c=cuts: feed_chunks(SamCommandDecoder(), d, c)  # type: ignore[misc]


def escpos_status_cases(rng: random.Random) -> Iterator[Case]:
    while True:
        value = rng.choice((rng.randrange(256), rng.randrange(-1000, 100_000)))
        yield f"parse_status({value})", lambda v=value: parse_status(v)  # type: ignore[misc]


def modbus_reply_cases(rng: random.Random) -> Iterator[Case]:
    while True:
        unit = rng.randrange(1, 248)
        count = rng.randrange(1, 8)
        reply = with_crc(bytes([unit, rng.choice((1, 2, 3, 4)), count, *(rng.randrange(256) for _ in range(count))]))
        echo = with_crc(bytes([unit, rng.choice((5, 6, 15, 16)), *(rng.randrange(256) for _ in range(4))]))
        data = mutate_bytes(rng.choice((reply, echo)) + rng.choice((b"", reply)), rng)
        yield f"find_reply({data!r}, unit={unit})", lambda d=data, u=unit: _checked_reply(d, u)  # type: ignore[misc]


def _checked_reply(data: bytes, unit: int) -> bytes | None:
    found = find_reply(data, unit=unit)
    if found is not None and not (found[0] == unit and crc_ok(found) and found in data):
        raise AssertionError(f"find_reply returned a frame that is not a CRC-valid reply of unit {unit}: {found!r}")
    return found


_CONFIG_TEMPLATE = """
[station]
id = "ST-1"
name = "示例警务站"
[paths]
data_dir = "/tmp/x"
[uplink]
url = "mqtt://127.0.0.1:1883"
keepalive = 30
[outbox]
max_events = 1000
[alarms]
enabled = true
[[alarms.dc09.accounts]]
account = "1234"
name = "学校"
"""


def config_cases(rng: random.Random) -> Iterator[Case]:
    def load(text: str) -> object:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            return None  # the TOML library's own error: check-config reports it with its line
        return parse_config(data, source="fuzz.toml", text=text)

    def override(dotted: str, value: Any) -> object:
        data = tomllib.loads(_CONFIG_TEMPLATE)
        set_dotted(data, dotted, value)
        return parse_config(data, source="fuzz.toml")

    keys = [
        "station.id",
        "station.id.x",
        "uplink",
        "uplink.url.a.b",
        "outbox.max_events",
        "alarms.dc09",
        "alarms.dc09.accounts",
        "sim.rate",
        "x.y",
        "",
        ".",
        "station..id",
        "paths.data_dir",
    ]
    while True:
        text = mutate_text(_CONFIG_TEMPLATE, rng)
        yield f"config({text!r})", lambda t=text: load(t)  # type: ignore[misc]
        key = rng.choice(keys)
        value = rng.choice((1, -1, 2**70, "x", "", [], {}, {"a": 1}, True, 1.5e308, "\x00"))
        yield f"--set {key}={value!r}", lambda k=key, v=value: override(k, v)  # type: ignore[misc]


TARGETS: dict[str, tuple[Callable[[random.Random], Iterator[Case]], tuple[type[BaseException], ...]]] = {
    "contact_id": (contact_id_cases, (ContactIdError,)),
    "sia_dcs": (sia_dcs_cases, (SiaDcsError,)),
    "idcard_text": (idcard_text_cases, (IdCardError,)),
    "idcard_frames": (idcard_frame_cases, (SamError, IdCardError)),
    "escpos_status": (escpos_status_cases, (EscPosStatusError,)),
    "modbus_reply": (modbus_reply_cases, ()),
    "config": (config_cases, (ConfigError,)),
}


def run(target: str, *, inputs: int, seed: int) -> Report:
    make, own = TARGETS[target]
    rng = random.Random(f"{target}:{seed}")  # noqa: S311 - reproducible inputs, not secrets
    report = Report()
    cases = make(rng)
    for _ in range(inputs):
        what, thunk = next(cases)
        report.inputs += 1
        try:
            thunk()
            report.parsed += 1
        except own:
            report.own_errors += 1
        except Exception as exc:  # noqa: BLE001 - any other exception is what the fuzz run looks for
            if len(report.failures) < 20:
                report.failures.append(f"{what[:200]}: {type(exc).__name__}: {exc}")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--inputs", type=int, default=100_000, help="inputs per target")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--target", action="append", choices=sorted(TARGETS), help="default: all")
    args = parser.parse_args(argv)
    failed = 0
    for target in args.target or sorted(TARGETS):
        t0 = time.perf_counter()
        r = run(target, inputs=args.inputs, seed=args.seed)
        print(
            f"{target:<14} {r.inputs:>7} inputs  {r.parsed:>7} parsed  {r.own_errors:>7} own errors  "
            f"{len(r.failures):>3} foreign exceptions  {time.perf_counter() - t0:6.1f} s"
        )
        for line in r.failures:
            print(f"    {line}")
        failed += bool(r.failures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
