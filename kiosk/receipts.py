"""Receipt content, independent of the printer: what a resident takes home, personal data masked.

`build_receipt` turns a result into a `ReceiptDoc`; `receipt_lines` gives the printable text in one
language. The edge renders it to ESC/POS bytes (`edge.kiosk.devices`); tests decode those bytes back.
"""

from __future__ import annotations

import msgspec

from kiosk.catalogue import ServiceSpec, Text
from kiosk.requests import KioskResult
from kiosk.validation import mask_id_number, mask_name, mask_phone

__all__ = ["CHECK_HINT", "ReceiptDoc", "ReceiptLine", "build_receipt", "mask_value", "receipt_lines"]

_STATUS = {
    "submitted": Text("已受理", "Received"),
    "queued": Text("已在本站登记，网络恢复后自动提交", "Saved at this station; sent when the network returns"),
    "booked": Text("预约成功", "Booked"),
    "found": Text("查询完成", "Done"),
    "issued": Text("取号成功", "Ticket issued"),
    "called": Text("已呼叫值班民警", "The officer on duty has been called"),
    "raised": Text("已报警", "Alarm raised"),
    "failed": Text("未能办理", "Not done"),
    "checked_in": Text("巡逻打卡成功", "Patrol check-in recorded"),
}

#: How a resident follows a report up (the receipt's QR code holds the reference too: `PK:<ticket>`).
CHECK_HINT = Text(
    "查询进度：在自助终端点「查询报案进度」，输入受理号末6位（在其他站点请输入完整受理号）。",
    "To check its progress, tap 'Check my report' on the kiosk and enter the last 6 digits of the "
    "reference (the whole reference at another station).",
)


class ReceiptLine(msgspec.Struct, frozen=True):
    label: Text
    value: str


class ReceiptDoc(msgspec.Struct, frozen=True, kw_only=True):
    station: str
    title: Text
    lines: tuple[ReceiptLine, ...]
    note: Text
    qr: str = ""


def mask_value(kind: str, value: str) -> str:
    if kind == "id_number":
        return mask_id_number(value)
    if kind == "phone":
        return mask_phone(value)
    if kind == "name":
        return mask_name(value)
    return value


def build_receipt(
    result: KioskResult, service: ServiceSpec, *, station: str, when: str, fields: dict[str, str]
) -> ReceiptDoc:
    lines = [ReceiptLine(Text("业务", "Service"), service.title.zh)]
    status = _STATUS[result.status]
    if result.ticket:
        lines.append(
            ReceiptLine(
                Text(
                    "受理号" if result.kind != "ticket" else "排队号",
                    "Reference" if result.kind != "ticket" else "Queue number",
                ),
                result.ticket,
            )
        )
    if result.slot:
        lines.append(ReceiptLine(Text("预约时间", "Appointment"), result.slot))
    for spec in service.fields:
        value = fields.get(spec.name, "")
        if not value or spec.kind == "multiline":
            continue
        if spec.kind == "choice":
            value = next((c.label.zh for c in spec.choices if c.value == value), value)
        lines.append(ReceiptLine(spec.label, mask_value(spec.kind, value)))
    for item in result.items:
        mark = "已处理" if item.handled else "未处理"
        summary = f"{item.what.zh} 扣{item.points}分 罚{item.fine}元 {mark}"
        lines.append(ReceiptLine(Text(item.date, item.date), summary))
    lines.append(ReceiptLine(Text("时间", "Time"), when))
    note = Text("请妥善保管本回执。" + status.zh, "Please keep this receipt. " + status.en)
    if result.kind == "report" and result.ticket:
        note = Text(f"{note.zh}。{CHECK_HINT.zh}", f"{note.en}. {CHECK_HINT.en}")
    return ReceiptDoc(
        station=station,
        title=service.title,
        lines=tuple(lines),
        note=note,
        qr=f"PK:{result.ticket}" if result.ticket else "",
    )


def receipt_lines(doc: ReceiptDoc, lang: str) -> list[str]:
    """The text lines of the receipt in `lang` (Chinese service names stay Chinese: the counter reads them)."""
    out = [doc.station, doc.title.get(lang)]
    for line in doc.lines:
        if not line.value:
            continue
        sep = ": " if lang == "en" else "："
        out.append(f"{line.label.get(lang)}{sep}{line.value}")
    out.append(doc.note.get(lang))
    return out
