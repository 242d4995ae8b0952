"""Form validation: a service's fields checked against what the resident entered.

`validate_form` returns the normalised values or raises `FormError` listing every field that is wrong,
each with a stable code and a message in both languages. Messages never contain the values.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from kiosk.catalogue import FieldSpec, ServiceSpec
from kiosk.validation import ValidationError, validate_date, validate_id_number, validate_phone

__all__ = ["FieldError", "FormError", "validate_field", "validate_form", "validate_plate"]

# Ordinary plates: province + letter + 5; new-energy: province + letter + 6 with D/F first or last.
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE = re.compile(
    rf"^[{_PROVINCES}][A-HJ-NP-Z](?:[A-HJ-NP-Z0-9]{{4}}[A-HJ-NP-Z0-9学警挂港澳]"
    r"|[DF][A-HJ-NP-Z0-9]{5}|[A-HJ-NP-Z0-9]{5}[DF])$"
)
_NAME = re.compile(r"^[\u3400-\u9fff\U00020000-\U0002ebef A-Za-z·•.\-]{1,30}$")


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    code: str
    message_zh: str
    message_en: str

    def message(self, lang: str) -> str:
        return self.message_en if lang == "en" else self.message_zh


class FormError(ValueError):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.code}" for e in errors))
        self.errors = errors

    def for_field(self, name: str) -> FieldError | None:
        return next((e for e in self.errors if e.field == name), None)


def _clean(raw: str) -> str:
    """Strip, fold width, drop control characters (nothing smuggled into receipts or logs)."""
    s = unicodedata.normalize("NFC", raw).strip()
    return "".join(c for c in s if c == "\n" or unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn"))


def validate_plate(raw: str) -> str:
    s = unicodedata.normalize("NFKC", raw).replace(" ", "").replace("·", "").upper()
    if not _PLATE.match(s):
        raise ValidationError(
            "plate.format",
            message_zh="车牌号码格式不正确，例如 粤B12345",
            message_en="That is not a licence plate; for example 粤B12345",
        )
    return s


def validate_field(spec: FieldSpec, raw: str, *, today: date) -> str:
    """One field: returns the normalised value ("" for an empty optional field)."""
    value = _clean(raw)
    if not value:
        if spec.required:
            raise ValidationError(
                "required", message_zh=f"请填写{spec.label.zh}", message_en=f"Please fill in: {spec.label.en}"
            )
        return ""
    if spec.kind not in ("multiline",):
        value = value.replace("\n", " ")
    if len(value) > spec.max_length and spec.kind not in ("phone", "id_number"):
        raise ValidationError(
            "too_long",
            message_zh=f"{spec.label.zh}不能超过 {spec.max_length} 个字",
            message_en=f"{spec.label.en}: at most {spec.max_length} characters",
        )
    if spec.kind == "phone":
        return validate_phone(value)
    if spec.kind == "id_number":
        return validate_id_number(value, today=today).number
    if spec.kind == "plate":
        return validate_plate(value)
    if spec.kind == "name":
        if not _NAME.match(value):
            raise ValidationError(
                "name.characters",
                message_zh="姓名只能包含汉字、字母和间隔号",
                message_en="A name contains only Chinese characters, letters and dots",
            )
        return value
    if spec.kind == "date":
        d = validate_date(
            value,
            earliest=today + timedelta(days=spec.min_days),
            latest=today + timedelta(days=spec.max_days),
            field_zh=spec.label.zh,
            field_en=spec.label.en.lower(),
        )
        return d.isoformat()
    if spec.kind == "choice":
        if value not in {c.value for c in spec.choices}:
            raise ValidationError(
                "choice", message_zh=f"请选择{spec.label.zh}", message_en=f"Please choose: {spec.label.en}"
            )
        return value
    return value


def validate_form(service: ServiceSpec, values: dict[str, str], *, today: date) -> dict[str, str]:
    """Every field of the service; unknown keys are ignored (never echoed)."""
    out: dict[str, str] = {}
    errors: list[FieldError] = []
    for spec in service.fields:
        try:
            value = validate_field(spec, values.get(spec.name, ""), today=today)
        except ValidationError as exc:
            errors.append(FieldError(spec.name, exc.code, exc.message_zh, exc.message_en))
            continue
        if value:
            out[spec.name] = value
    if errors:
        raise FormError(errors)
    return out
