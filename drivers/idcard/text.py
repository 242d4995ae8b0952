"""The 256-byte text block of a second-generation ID card, decoded into :class:`IdCardData`.

The SAM returns the card's text as UCS-2 little-endian, each field space padded, at fixed byte
offsets (GA/T 467). Three layouts exist, told apart by the card-type mark at byte 248:

resident card (no mark)
    name 0,30 · gender 30,2 · ethnicity 32,4 (GB 3304 code, ``01`` = 汉) · birth date 36,16
    (``YYYYMMDD``) · address 52,70 · ID number 122,36 · issuing authority 158,30 · valid from
    188,16 · valid to 204,16 (a date or ``长期``, long-term) · reserved 220,36
``J``: residence permit for Hong Kong, Macao and Taiwan residents
    as the resident card without ethnicity, plus the pass number at 220,18 and the issue count
    at 238,4
``I``: foreigner's permanent residence card (2017 layout)
    English name 0,120 · gender 120,2 · permanent residence number 122,30 · nationality
    (GB/T 2659 alpha-3) 152,6 · Chinese name 158,30 · valid from 188,16 · valid to 204,16 ·
    birth date 220,16 · card version 236,4 · accepting authority code 240,8 · type mark 248,2

Gender codes (GB/T 2261.1): 1 male, 2 female, 0 unknown, 9 unspecified.

Privacy: ``repr()``/``str()`` of :class:`IdCardData` mask the name, ID number, address, pass number
and birth date, so an accidental log line or traceback leaks nothing. Decoding keeps no cache and
error messages name the field, never its content.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum

__all__ = [
    "ETHNICITIES",
    "LONG_TERM",
    "TEXT_BLOCK_SIZE",
    "CardTextError",
    "CardType",
    "Gender",
    "IdCardData",
    "IdCardError",
    "LongTerm",
    "card_type_of",
    "decode_card_text",
    "mask_text",
]

TEXT_BLOCK_SIZE = 256
_TYPE_MARK = 248


class IdCardError(Exception):
    """Base of every ID-card reader error."""


class CardTextError(IdCardError):
    """The text block is malformed. The message names the field, never its content."""


class CardType(Enum):
    RESIDENT = "resident"
    FOREIGN_PERMANENT = "I"  # foreigner's permanent residence card
    HKMT_RESIDENCE = "J"  # Hong Kong / Macao / Taiwan residents' residence permit


class Gender(Enum):
    MALE = "1"
    FEMALE = "2"
    UNKNOWN = "0"


class LongTerm(Enum):
    """The ``长期`` (long-term) expiry of cards issued to people aged 46 and over."""

    LONG_TERM = "长期"


LONG_TERM = LongTerm.LONG_TERM

# GB 3304-1991 ethnicity codes and names as printed on the card.
ETHNICITIES: dict[str, str] = {
    "01": "汉",
    "02": "蒙古",
    "03": "回",
    "04": "藏",
    "05": "维吾尔",
    "06": "苗",
    "07": "彝",
    "08": "壮",
    "09": "布依",
    "10": "朝鲜",
    "11": "满",
    "12": "侗",
    "13": "瑶",
    "14": "白",
    "15": "土家",
    "16": "哈尼",
    "17": "哈萨克",
    "18": "傣",
    "19": "黎",
    "20": "傈僳",
    "21": "佤",
    "22": "畲",
    "23": "高山",
    "24": "拉祜",
    "25": "水",
    "26": "东乡",
    "27": "纳西",
    "28": "景颇",
    "29": "柯尔克孜",
    "30": "土",
    "31": "达斡尔",
    "32": "仫佬",
    "33": "羌",
    "34": "布朗",
    "35": "撒拉",
    "36": "毛南",
    "37": "仡佬",
    "38": "锡伯",
    "39": "阿昌",
    "40": "普米",
    "41": "塔吉克",
    "42": "怒",
    "43": "乌孜别克",
    "44": "俄罗斯",
    "45": "鄂温克",
    "46": "德昂",
    "47": "保安",
    "48": "裕固",
    "49": "京",
    "50": "塔塔尔",
    "51": "独龙",
    "52": "鄂伦春",
    "53": "赫哲",
    "54": "门巴",
    "55": "珞巴",
    "56": "基诺",
    "97": "其他",
    "98": "外国血统中国籍人士",
}


def mask_text(value: str, *, keep_start: int = 1, keep_end: int = 0) -> str:
    """Keep ``keep_start`` leading and ``keep_end`` trailing characters, star the rest."""
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    end = value[len(value) - keep_end :] if keep_end else ""
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + end


@dataclass(frozen=True, repr=False)
class IdCardData:
    """What the card says. Fields that a layout lacks are empty (``""`` / ``None``)."""

    card_type: CardType
    name: str  # Chinese name (may be empty on an 'I' card)
    gender: Gender
    birth_date: date
    id_number: str  # citizen ID number; permanent residence number on an 'I' card
    valid_from: date
    valid_to: date | LongTerm
    ethnicity_code: str = ""  # GB 3304, resident cards only
    address: str = ""
    issuing_authority: str = ""
    pass_number: str = ""  # 'J': Hong Kong/Macao/Taiwan travel pass number
    issue_count: int | None = None  # 'J': how many times a permit was issued
    english_name: str = ""  # 'I'
    nationality_code: str = ""  # 'I': GB/T 2659 alpha-3, e.g. "CAN"
    card_version: str = ""  # 'I'
    authority_code: str = ""  # 'I': code of the accepting authority
    photo: bytes = b""  # encrypted wavelet image: opaque, needs a licensed decoder

    @property
    def ethnicity(self) -> str:
        """The ethnicity name (``汉``, ``维吾尔``...), or ``""`` for an unknown or absent code."""
        return ETHNICITIES.get(self.ethnicity_code, "")

    @property
    def long_term(self) -> bool:
        return self.valid_to is LONG_TERM

    def __repr__(self) -> str:
        parts = [
            f"card_type={self.card_type.name}",
            f"name={mask_text(self.name)!r}",
            f"gender={self.gender.name}",
            f"id_number={mask_text(self.id_number, keep_start=6, keep_end=4)!r}",
            "birth_date=<hidden>",
            f"address=<{len(self.address)} chars>",
        ]
        if self.ethnicity_code:
            parts.append(f"ethnicity={self.ethnicity or self.ethnicity_code}")
        if self.english_name:
            parts.append(f"english_name={mask_text(self.english_name)!r}")
        if self.nationality_code:
            parts.append(f"nationality={self.nationality_code}")
        if self.pass_number:
            parts.append(f"pass_number={mask_text(self.pass_number, keep_start=1, keep_end=2)!r}")
        valid_to = "长期" if isinstance(self.valid_to, LongTerm) else self.valid_to.isoformat()
        parts += [f"valid_to={valid_to}", f"photo=<{len(self.photo)} bytes>"]
        return f"IdCardData({', '.join(parts)})"

    __str__ = __repr__


def _field(text: bytes, offset: int, size: int, name: str) -> str:
    try:
        value = text[offset : offset + size].decode("utf-16-le")
    except UnicodeDecodeError:
        raise CardTextError(f"{name}: not UCS-2 text") from None
    return value.strip(" \x00\u3000")


def _required_date(text: bytes, offset: int, name: str) -> date:
    raw = _field(text, offset, 16, name)
    if len(raw) != 8 or not raw.isascii() or not raw.isdigit():
        raise CardTextError(f"{name}: not a YYYYMMDD date")
    try:
        return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError:
        raise CardTextError(f"{name}: not a calendar date") from None


def _expiry(text: bytes, offset: int) -> date | LongTerm:
    if _field(text, offset, 16, "valid_to") == LONG_TERM.value:
        return LONG_TERM
    return _required_date(text, offset, "valid_to")


def _gender(code: str) -> Gender:
    return {"1": Gender.MALE, "2": Gender.FEMALE}.get(code, Gender.UNKNOWN)


def card_type_of(text: bytes) -> CardType:
    """The layout of a text block, from its type mark at byte 248."""
    mark = _field(text, _TYPE_MARK, 2, "card_type")
    if mark == "I":
        return CardType.FOREIGN_PERMANENT
    if mark == "J":
        return CardType.HKMT_RESIDENCE
    return CardType.RESIDENT


def decode_card_text(text: bytes, *, photo: bytes = b"") -> IdCardData:
    """Decode a text block (at least 256 bytes; extra bytes are ignored) into :class:`IdCardData`."""
    if len(text) < TEXT_BLOCK_SIZE:
        raise CardTextError(f"text block has {len(text)} bytes, expected {TEXT_BLOCK_SIZE}")
    kind = card_type_of(text)
    if kind is CardType.FOREIGN_PERMANENT:
        return IdCardData(
            card_type=kind,
            english_name=_field(text, 0, 120, "english_name"),
            gender=_gender(_field(text, 120, 2, "gender")),
            id_number=_field(text, 122, 30, "id_number"),
            nationality_code=_field(text, 152, 6, "nationality"),
            name=_field(text, 158, 30, "name"),
            valid_from=_required_date(text, 188, "valid_from"),
            valid_to=_expiry(text, 204),
            birth_date=_required_date(text, 220, "birth_date"),
            card_version=_field(text, 236, 4, "card_version"),
            authority_code=_field(text, 240, 8, "authority_code"),
            photo=photo,
        )
    name = _field(text, 0, 30, "name")
    gender = _gender(_field(text, 30, 2, "gender"))
    birth_date = _required_date(text, 36, "birth_date")
    address = _field(text, 52, 70, "address")
    id_number = _field(text, 122, 36, "id_number")
    authority = _field(text, 158, 30, "issuing_authority")
    valid_from = _required_date(text, 188, "valid_from")
    valid_to = _expiry(text, 204)
    ethnicity_code = pass_number = ""
    issue_count: int | None = None
    if kind is CardType.HKMT_RESIDENCE:
        pass_number = _field(text, 220, 18, "pass_number")
        count = _field(text, 238, 4, "issue_count")
        if count and not (count.isascii() and count.isdigit()):
            raise CardTextError("issue_count: not a number")
        issue_count = int(count) if count else None
    else:
        ethnicity_code = _field(text, 32, 4, "ethnicity")
    return IdCardData(
        card_type=kind,
        name=name,
        gender=gender,
        birth_date=birth_date,
        id_number=id_number,
        valid_from=valid_from,
        valid_to=valid_to,
        ethnicity_code=ethnicity_code,
        address=address,
        issuing_authority=authority,
        pass_number=pass_number,
        issue_count=issue_count,
        photo=photo,
    )
