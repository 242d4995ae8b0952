#!/usr/bin/env python3
"""Deterministic fuzz run of the SIA DC-09 receiver codec (plain Python, no extra dependency).

Feeds generated inputs, in random chunkings, to :class:`drivers.dc09.codec.Dc09Decoder` (all three CRC
formats, with AES keys of every size) and to :class:`drivers.dc09.sender.Dc09ResponseDecoder`, and
parses every accepted payload with the Contact ID / SIA DCS parsers. Inputs are a mix of

* clean streams of valid frames (must decode exactly, frame for frame),
* valid frames with mutations (bit flips, special bytes, deletions, insertions, truncation,
  splices, duplicated slices, case changes, forged CRC/LEN fields),
* "reframed" frames: a mutated span given a correct CRC and LEN, so the content parser is hit,
* random bytes, and junk built from DC-09 fragments (LF, CR, quotes, brackets, header pieces).

It fails (exit 1) on any exception that is not one of the codecs' own error types, and on a broken
invariant: a clean stream not decoded exactly, a result that depends on how the input was chunked,
or a reply that is not a well-formed DC-09 response. Usage::

    python scripts/fuzz_dc09.py [--inputs 100000] [--seed 20240301]
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drivers.dc09.codec import Dc09Decoder, Dc09Error, Dc09Token, ResponseKind, encode_frame
from drivers.dc09.contact_id import ContactIdError, parse_adm_cid_data
from drivers.dc09.frame import MAX_SPAN, frame_span
from drivers.dc09.sender import Dc09ResponseDecoder
from drivers.dc09.sia_dcs import SiaDcsError, parse_sia_dcs

NOW = datetime(2024, 3, 1, 8, 30, 0, tzinfo=UTC)
KEYS = {"A1B2": bytes(range(16)), "C3D4": bytes(range(24)), "E5F6": bytes(range(32))}
OWN_ERRORS = (Dc09Error, ContactIdError, SiaDcsError)
GOLDEN = [
    'F4D20029"SIA-DCS"0001RF3L77#1234[#1234|NRR|Atest]',
    '96ED0016"SIA-DCS"0001L0#1234[]',
    '3BAC0029"SIA-DCS"0002#0123[#0123|Nti20:50:26RP99]',
    '9EC40027"ADM-CID"0001L0#1002[#1002|1602 00 001]',
    '54230012"NULL"0000L0#AAA[]',
    'CDA80026"NULL"0000L0#AAA[]_19:08:35,04-29-2021',
    '53350022"SIA-DCS"0001L0#AAA[#AAA|Nri0/ZY0]',
    'EDA70039"SIA-DCS"0013L0#AAA[#AAA|Nri0/RP0000]_09:19:30,02-20-2023',
]
_FRAGMENTS = [
    b"\n",
    b"\r",
    b'"',
    b"[",
    b"]",
    b"|",
    b"#",
    b"_",
    b"*",
    b"0",
    b"F",
    b"00",
    b"0029",
    b'"SIA-DCS"',
    b'"*ADM-CID"',
    b'"NULL"',
    b"0001",
    b"L0",
    b"R0",
    b"#AAA",
    b"[]",
    b"_12:00:00,03-01-2024",
    b"\x00",
    b"\xff",
    b"ACK",
    b'"NAK"0000R0L0A0[]',
]
_SPECIAL = b'\n\r"[]|#_*0F '


@dataclass
class FuzzReport:
    inputs: int = 0
    bytes_fed: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    verdicts: Counter[str] = field(default_factory=Counter)
    counters: Counter[str] = field(default_factory=Counter)
    payloads_ok: int = 0
    payload_errors: int = 0
    own_errors: int = 0
    foreign_exceptions: list[str] = field(default_factory=list)
    invariant_failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failures(self) -> int:
        return len(self.foreign_exceptions) + len(self.invariant_failures)

    def lines(self) -> list[str]:
        out = [
            f"inputs: {self.inputs} ({', '.join(f'{k} {v}' for k, v in sorted(self.kinds.items()))})",
            f"bytes fed: {self.bytes_fed} in {self.seconds:.1f} s",
            f"answers: {', '.join(f'{k} {v}' for k, v in sorted(self.verdicts.items()))}",
            f"decoder counters: {', '.join(f'{k} {v}' for k, v in sorted(self.counters.items()))}",
            f"payloads parsed: {self.payloads_ok}, payload errors (own type): {self.payload_errors}",
            f"codec errors raised by feed (own type): {self.own_errors}",
            f"foreign exceptions: {len(self.foreign_exceptions)}",
            f"invariant failures: {len(self.invariant_failures)}",
        ]
        out += [f"  {line}" for line in (self.foreign_exceptions + self.invariant_failures)[:20]]
        return out


def _pad_rng(rnd: random.Random) -> object:
    return lambda n: bytes(rnd.randrange(256) for _ in range(n))


def frame_pool(rnd: random.Random, size: int = 300) -> list[tuple[bytes, tuple[object, ...] | None]]:
    """Valid frames and, for those the fuzz decoder must accept as they are, what they decode to."""
    pool: list[tuple[bytes, tuple[object, ...] | None]] = [
        (b"\n" + g.encode() + b"\r", None)
        for g in GOLDEN  # accepted, but some carry old timestamps
    ]
    text = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in "[]")
    for _ in range(size):
        account = rnd.choice(["1234", "AAA", "0123456789ABCDEF", *KEYS])
        encrypted = account in KEYS and rnd.random() < 0.7
        token = "SIA-XYZ" if rnd.random() < 0.03 else rnd.choice(list(Dc09Token))  # a few unsupported: DUH
        stamp = NOW - timedelta(seconds=rnd.randrange(0, 30)) if encrypted or rnd.random() < 0.5 else None
        if stamp is not None and rnd.random() < 0.05:
            stamp -= timedelta(hours=1)  # outside the window: NAK
        data = "".join(rnd.choice(text) for _ in range(rnd.randrange(0, 30)))
        if rnd.random() < 0.4:
            data = rnd.choice([f"#{account}|1120 01 003", f"#{account}|Nri1/PA01", f"#{account}|3121 00 002"])
        extended = tuple("X" + str(rnd.randrange(1000)) for _ in range(rnd.randrange(0, 3)))
        raw = encode_frame(
            token=token,
            sequence=rnd.randrange(0, 10000),
            account=account,
            data=data,
            extended=extended,
            receiver=rnd.choice([None, "0", "F3"]),
            prefix=rnd.choice([None, "0", "77"]),
            timestamp=stamp,
            key=KEYS[account] if encrypted else None,
            crc_format=rnd.choice(["hex", "binary"]),
            rng=_pad_rng(rnd),  # type: ignore[arg-type]
        )
        pool.append((raw, None))
    return pool


def mutate(rnd: random.Random, raw: bytes, pool: list[tuple[bytes, tuple[object, ...] | None]]) -> bytes:
    data = bytearray(raw)
    for _ in range(rnd.choice([1, 1, 1, 2, 3, 5])):
        if not data:
            break
        op = rnd.randrange(10)
        i = rnd.randrange(len(data))
        if op == 0:
            data[i] ^= 1 << rnd.randrange(8)
        elif op == 1:
            data[i] = rnd.choice(_SPECIAL)
        elif op == 2:
            del data[i : i + rnd.randrange(1, 4)]
        elif op == 3:
            data[i:i] = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 4)))
        elif op == 4:
            del data[i:]
        elif op == 5:
            other = rnd.choice(pool)[0]
            data[i:] = other[rnd.randrange(len(other)) :]
        elif op == 6:
            j = rnd.randrange(i, len(data) + 1)
            data[j:j] = data[i:j]
        elif op == 7:
            data[i : i + 8] = bytes(data[i : i + 8]).swapcase()
        elif op == 8 and len(data) > 9:
            data[1:5] = f"{rnd.randrange(0x10000):04X}".encode()  # forged CRC
        else:
            data[5:9] = f"0{rnd.randrange(0x1000):03x}".encode()  # forged LEN
    return bytes(data)


def reframe(rnd: random.Random, raw: bytes, pool: list[tuple[bytes, tuple[object, ...] | None]]) -> bytes:
    """Mutate the span of a frame, then give it a correct CRC and LEN: exercises the content parser."""
    start = 9 if raw[9:10] == b'"' else 7
    mutated = mutate(rnd, b"\n" + b"0" * 8 + raw[start:-1], pool)  # header-shaped prefix, then the span
    span = mutated[9:].replace(b"\r", b"").replace(b"\n", b"")
    span = (b'"' + span.lstrip(b'"'))[:MAX_SPAN]
    return frame_span(span, crc_format=rnd.choice(["hex", "binary"]))


def junk(rnd: random.Random) -> bytes:
    if rnd.random() < 0.5:
        return bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 200)))
    return b"".join(rnd.choice(_FRAGMENTS) for _ in range(rnd.randrange(1, 40)))


def chunks(rnd: random.Random, stream: bytes) -> list[bytes]:
    cuts = sorted(rnd.randrange(len(stream) + 1) for _ in range(rnd.randrange(0, 8)))
    bounds = [0, *cuts, len(stream)]
    return [stream[a:b] for a, b in itertools.pairwise(bounds)]


def _decode(
    report: FuzzReport, parts: list[bytes], fmt: str, label: str, *, count: bool
) -> list[tuple[object, ...]] | None:
    dec = Dc09Decoder(keys=KEYS, crc_format=fmt, rng=lambda n: b"\x01" * n)  # type: ignore[arg-type]
    replies = Dc09ResponseDecoder(keys=KEYS)
    out: list[tuple[object, ...]] = []
    try:
        for part in parts:
            for res in dec.feed(part, now=NOW):
                answer = replies.feed(res.reply)
                if len(answer) != 1 or answer[0].kind is not res.verdict:
                    report.invariant_failures.append(f"{label}: reply {res.reply!r} is not one {res.verdict}")
                m = res.message
                out.append(
                    (
                        res.verdict,
                        res.account,
                        res.sequence,
                        res.reason,
                        None if m is None else (m.token, m.data, m.extended, m.timestamp, m.encrypted),
                    )
                )
        dec.flush()
    except OWN_ERRORS:
        report.own_errors += 1
        return None
    if count:
        report.counters.update(dec.counters.as_dict())
    return out


def _payloads(report: FuzzReport, results: list[tuple[object, ...]]) -> None:
    for verdict, *_, message in results:
        if verdict is not ResponseKind.ACK or message is None:
            continue
        token, data = message[0], message[1]  # type: ignore[index]
        try:
            if token is Dc09Token.ADM_CID:
                parse_adm_cid_data(data)
            elif token is Dc09Token.SIA_DCS:
                parse_sia_dcs(data)
            report.payloads_ok += 1
        except (ContactIdError, SiaDcsError):
            report.payload_errors += 1


def run(*, inputs: int = 100_000, seed: int = 20240301) -> FuzzReport:
    rnd = random.Random(seed)  # noqa: S311 - a fuzzer wants a reproducible, not a secret, sequence
    pool = frame_pool(rnd)
    report = FuzzReport()
    started = time.perf_counter()
    for n in range(inputs):
        roll = rnd.random()
        frames = [rnd.choice(pool)[0] for _ in range(rnd.randrange(1, 5))]
        if roll < 0.10:
            kind, stream = "clean", b"".join(frames)
        elif roll < 0.55:
            kind, stream = "mutated", b"".join(mutate(rnd, f, pool) if rnd.random() < 0.7 else f for f in frames)
        elif roll < 0.65:
            kind, stream = "reframed", b"".join(reframe(rnd, f, pool) if rnd.random() < 0.7 else f for f in frames)
        else:
            kind, stream = "junk", junk(rnd) + (frames[0] if rnd.random() < 0.3 else b"")
        fmt = rnd.choice(["auto", "auto", "hex", "binary"])
        label = f"input {n} ({kind}, {fmt}, {stream!r:.80})"
        report.inputs += 1
        report.kinds[kind] += 1
        report.bytes_fed += len(stream)
        try:
            split = _decode(report, chunks(rnd, stream), fmt, label, count=False)
            whole = _decode(report, [stream], fmt, label, count=True)
            if split != whole:
                report.invariant_failures.append(f"{label}: result depends on chunking")
            if whole is None:
                continue
            report.verdicts.update(str(r[0]) for r in whole)
            if kind == "clean" and fmt == "auto" and len(whole) != len(frames):
                report.invariant_failures.append(f"{label}: {len(frames)} clean frames, {len(whole)} decoded")
            _payloads(report, whole)
        except Exception as exc:  # noqa: BLE001 - the point of a fuzzer: record, go on, fail at the end
            report.foreign_exceptions.append(f"{label}: {type(exc).__name__}: {exc}")
    report.seconds = time.perf_counter() - started
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20240301)
    args = parser.parse_args(argv)
    report = run(inputs=args.inputs, seed=args.seed)
    print(f"fuzz_dc09 seed {args.seed}")
    for line in report.lines():
        print(line)
    print("FAIL" if report.failures else "OK")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
