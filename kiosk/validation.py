"""Validation and masking of resident data typed at the kiosk or read from an ID card.

Standard library only, UI-free. Every validator either returns a normalised value or raises
:class:`ValidationError`, which carries a stable ``code`` plus a message in Chinese (``message_zh``)
and English (``message_en``). Messages never echo the value back (not even partly): the
error may end up in a log line, and ID numbers, names and phone numbers must never be logged.

Citizen ID numbers (GB 11643-1999)
    18 characters: 6 region digits (GB/T 2260; first two = province), 8 birth-date digits
    ``YYYYMMDD`` (positions 7-14), 3 sequence digits (the 17th is odd for men, even for women)
    and a check character: ISO 7064 MOD 11-2, weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2 over the
    first 17 digits, the sum mod 11 indexes ``10X98765432``. Input is normalised first: full-width
    digits and ``Ｘ``/``x`` are accepted, spaces are dropped. The old 15-digit numbers are rejected
    with their own message. Residence permits for Hong Kong, Macao and Taiwan residents use region
    ``810000``/``820000``/``830000`` and pass the same check.

Mainland mobile numbers
    11 digits ``1[3-9]xxxxxxxxx``; spaces, dashes, dots, brackets, full-width digits and a ``+86`` /
    ``0086`` / ``86`` prefix are normalised away.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

__all__ = [
    "CitizenId",
    "ValidationError",
    "id_check_character",
    "is_valid_id_number",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "normalize_id_number",
    "normalize_phone",
    "validate_date",
    "validate_id_number",
    "validate_phone",
]


class ValidationError(ValueError):
    """A value failed validation. ``str()`` gives both languages; neither contains the value."""

    def __init__(self, code: str, *, message_zh: str, message_en: str) -> None:
        super().__init__(f"{message_en} / {message_zh}")
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en


# --------------------------------------------------------------------------- normalisation


def _fold(raw: str) -> str:
    """Full-width digits, letters, ``＋``, ``－``, brackets and spaces to ASCII (NFKC)."""
    return unicodedata.normalize("NFKC", raw)


# --------------------------------------------------------------------------- citizen ID numbers

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# GB/T 2260 province-level codes; 71 Taiwan, 81 Hong Kong, 82 Macao (83: Taiwan residence permits).
_PROVINCES = frozenset(
    {
        11,
        12,
        13,
        14,
        15,
        21,
        22,
        23,
        31,
        32,
        33,
        34,
        35,
        36,
        37,
        41,
        42,
        43,
        44,
        45,
        46,
        50,
        51,
        52,
        53,
        54,
        61,
        62,
        63,
        64,
        65,
        71,
        81,
        82,
        83,
    }
)
_EARLIEST_BIRTH = date(1800, 1, 1)


@dataclass(frozen=True, repr=False)
class CitizenId:
    """A checked citizen ID number. ``repr``/``str`` show only the masked form."""

    number: str
    birth_date: date
    region_code: str
    gender: Literal["male", "female"]

    def __repr__(self) -> str:
        return f"CitizenId({mask_id_number(self.number)})"

    __str__ = __repr__

    @property
    def masked(self) -> str:
        return mask_id_number(self.number)


def normalize_id_number(raw: str) -> str:
    """Fold full-width characters, drop spaces, upper-case the ``X``. Does not validate."""
    return re.sub(r"\s+", "", _fold(raw)).upper()


def id_check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for 17 ASCII digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("need exactly 17 ASCII digits")
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def validate_id_number(raw: str, *, today: date | None = None) -> CitizenId:
    """Normalise and check an 18-character citizen ID number; raise :class:`ValidationError`."""
    number = normalize_id_number(raw)
    if not number:
        raise ValidationError("id.empty", message_zh="请输入公民身份号码", message_en="Enter an ID number")
    if len(number) == 15 and number.isdigit():
        raise ValidationError(
            "id.old_format",
            message_zh="15 位旧身份号码已停用，请使用 18 位号码",
            message_en="Old 15-digit ID numbers are no longer accepted; use the 18-character number",
        )
    if len(number) != 18:
        raise ValidationError(
            "id.length",
            message_zh="公民身份号码应为 18 位",
            message_en="An ID number has 18 characters",
        )
    body, check = number[:17], number[17]
    if not (body.isascii() and body.isdigit()) or check not in "0123456789X":
        raise ValidationError(
            "id.characters",
            message_zh="公民身份号码只能包含数字，最后一位可以是 X",
            message_en="An ID number contains only digits, and the last character may be X",
        )
    province = int(body[:2])
    if province not in _PROVINCES or (province in (81, 82, 83) and body[2:6] != "0000"):
        raise ValidationError(
            "id.region",
            message_zh="公民身份号码的地区代码无效",
            message_en="The region code of the ID number is not valid",
        )
    try:
        birth = date(int(body[6:10]), int(body[10:12]), int(body[12:14]))
    except ValueError:
        birth = None
    latest = today if today is not None else date.today()
    if birth is None or not _EARLIEST_BIRTH <= birth <= latest:
        raise ValidationError(
            "id.birth_date",
            message_zh="公民身份号码中的出生日期无效",
            message_en="The birth date inside the ID number is not valid",
        )
    if id_check_character(body) != check:
        raise ValidationError(
            "id.check",
            message_zh="公民身份号码校验位不正确，请核对后重新输入",
            message_en="The ID number's check character is wrong; please check the number",
        )
    return CitizenId(
        number=number,
        birth_date=birth,
        region_code=body[:6],
        gender="male" if int(body[16]) % 2 else "female",
    )


def is_valid_id_number(raw: str, *, today: date | None = None) -> bool:
    try:
        validate_id_number(raw, today=today)
    except ValidationError:
        return False
    return True


def mask_id_number(number: str) -> str:
    """``110105********002X``: first 6 and last 4 kept. Short or odd input is masked entirely."""
    n = normalize_id_number(number)
    if len(n) < 11:
        return "*" * len(n)
    return n[:6] + "*" * (len(n) - 10) + n[-4:]


# --------------------------------------------------------------------------- phone numbers

_PHONE = re.compile(r"1[3-9]\d{9}")


def normalize_phone(raw: str) -> str:
    """Fold full-width characters; drop spaces, dashes, dots, brackets and a +86/0086 prefix."""
    s = re.sub(r"[\s\-.()\u2010-\u2015]", "", _fold(raw))
    for prefix in ("+86", "0086"):
        if s.startswith(prefix):
            return s[len(prefix) :]
    if len(s) == 13 and s.startswith("86"):
        return s[2:]
    return s


def validate_phone(raw: str) -> str:
    """Return the 11-digit mobile number or raise :class:`ValidationError`."""
    s = normalize_phone(raw)
    if not s:
        raise ValidationError("phone.empty", message_zh="请输入手机号码", message_en="Enter a mobile number")
    if not (s.isascii() and s.isdigit()):
        raise ValidationError(
            "phone.characters",
            message_zh="手机号码只能包含数字",
            message_en="A mobile number contains only digits",
        )
    if len(s) != 11:
        raise ValidationError(
            "phone.length", message_zh="手机号码应为 11 位", message_en="A mobile number has 11 digits"
        )
    if not _PHONE.fullmatch(s):
        raise ValidationError(
            "phone.prefix",
            message_zh="手机号码应以 13 至 19 开头",
            message_en="A mainland mobile number starts with 13 to 19",
        )
    return s


def mask_phone(phone: str) -> str:
    """``138****5678``: first 3 and last 4 kept. Other lengths are masked entirely."""
    s = normalize_phone(phone)
    if len(s) != 11:
        return "*" * len(s)
    return s[:3] + "****" + s[-4:]


# --------------------------------------------------------------------------- names

_COMPOUND_PAIRS = (
    "欧阳司马上官诸葛东方皇甫尉迟公孙慕容长孙宇文司徒夏侯轩辕令狐独孤南宫西门澹台万俟端木申屠公羊呼延太史钟离闻人"
    "赫连濮阳淳于单于百里东郭拓跋司空第五左丘公冶谷梁宗政漆雕乐正壤驷公良亓官巫马梁丘羊舌微生公西仲孙叔孙太叔"
)
_COMPOUND_SURNAMES = frozenset(_COMPOUND_PAIRS[i : i + 2] for i in range(0, len(_COMPOUND_PAIRS), 2))
_SEPARATORS = frozenset("·• -.")


def mask_name(name: str) -> str:
    """``张*``, ``张**``, ``欧阳**``; names with ``·`` or spaces keep only their first character."""
    s = name.strip()
    if len(s) <= 1:
        return "*" * len(s)
    keep = 2 if len(s) >= 3 and s[:2] in _COMPOUND_SURNAMES else 1
    return s[:keep] + "".join(c if c in _SEPARATORS else "*" for c in s[keep:])


# --------------------------------------------------------------------------- dates

_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_DATE = re.compile(r"(\d{4})(?:-|/|\.|年)(\d{1,2})(?:-|/|\.|月)(\d{1,2})日?")


def validate_date(
    value: str | date,
    *,
    earliest: date | None = None,
    latest: date | None = None,
    field_zh: str = "日期",
    field_en: str = "date",
) -> date:
    """Parse ``YYYY-MM-DD``, ``YYYYMMDD``, ``YYYY/M/D`` or ``YYYY年M月D日`` and check its range."""
    parsed: date | None = None
    if isinstance(value, date):
        parsed = value
    else:
        s = re.sub(r"\s+", "", _fold(value))
        m = _COMPACT_DATE.fullmatch(s) or _DATE.fullmatch(s)
        if m is not None:
            try:
                parsed = date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                parsed = None
    if parsed is None:
        raise ValidationError(
            "date.format",
            message_zh=f"{field_zh}无效，请按 年-月-日 填写",
            message_en=f"The {field_en} is not a valid date; use year-month-day",
        )
    if earliest is not None and parsed < earliest:
        raise ValidationError(
            "date.too_early",
            message_zh=f"{field_zh}不能早于 {earliest.isoformat()}",
            message_en=f"The {field_en} cannot be before {earliest.isoformat()}",
        )
    if latest is not None and parsed > latest:
        raise ValidationError(
            "date.too_late",
            message_zh=f"{field_zh}不能晚于 {latest.isoformat()}",
            message_en=f"The {field_en} cannot be after {latest.isoformat()}",
        )
    return parsed
