"""The `[kiosk]` section of the station configuration: the resident touchscreen's services and devices.

[kiosk]
enabled = true
location = "一楼大厅"            # where the kiosk stands: the crew is told it with every officer call
location_en = "Ground-floor hall"
services = ["report_dispute", "queue_ticket", "notices", "call_officer", "emergency"]
idle_timeout = 120
idle_warning = 30

[kiosk.id_reader]
port = "/dev/ttyUSB0"

[kiosk.printer]
port = "/dev/ttyUSB1"
charset = "gb2312"
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from edge.config.base import Strict
from kiosk.catalogue import Catalogue, CatalogueError, load_catalogue
from kiosk.catalogue_default import DEFAULT_CATALOGUE

__all__ = ["IdReaderSection", "KioskSection", "PrinterSection"]


class IdReaderSection(Strict):
    port: str | None = Field(
        default=None,
        description="Serial port of the GA/T 467 ID card reader (/dev/ttyUSB0 or a pyserial URL); unset: no reader.",
    )
    baudrate: Annotated[int, Field(ge=1200, le=921_600, description="Reader baud rate (115200 usual).")] = 115_200
    poll_interval: Annotated[float, Field(ge=0.3, le=5.0, description="Seconds between card polls (>= 0.3).")] = 0.5


class PrinterSection(Strict):
    port: str | None = Field(default=None, description="Serial port of the ESC/POS receipt printer; unset: none.")
    baudrate: Annotated[int, Field(ge=1200, le=921_600, description="Printer baud rate (9600 usual).")] = 9600
    charset: Literal["gb2312", "gbk", "gb18030"] = Field(
        default="gb18030", description="Characters the printer carries; others print as a visible 〓."
    )
    status_interval: Annotated[float, Field(ge=5, le=3600, description="Seconds between status checks.")] = 30.0
    check_status: bool = Field(default=True, description="Ask DLE EOT status before and after each receipt.")


class KioskSection(Strict):
    enabled: bool = Field(default=False, description="Run the kiosk component.")
    catalogue_file: Path | None = Field(
        default=None, description="A TOML/JSON service catalogue replacing the built-in one."
    )
    services: list[str] | None = Field(
        default=None, description="Service ids offered, in screen order; default: the whole catalogue."
    )
    idle_timeout: Annotated[
        float,
        Field(
            ge=40,
            le=1800,
            description=("Seconds without a touch before the session is wiped (the warning is shown first)."),
        ),
    ] = 120.0
    idle_warning: Annotated[
        float,
        Field(
            ge=20, le=300, description=("Seconds the 'are you still there?' warning gives the resident (at least 20).")
        ),
    ] = 30.0
    hub_timeout: Annotated[
        float,
        Field(
            gt=0, le=30, description=("Seconds to wait for central's live answer before queueing the request locally.")
        ),
    ] = 5.0
    retry_interval: Annotated[
        float,
        Field(
            ge=0.5, le=600, description=("Seconds between attempts to get central's answer to requests queued offline.")
        ),
    ] = 5.0
    location: str = Field(
        default="",
        max_length=64,
        description="Where the kiosk stands, e.g. 一楼大厅: shown on the crew console with every officer call "
        "and emergency (at most 64 characters, one line). Empty: the station's name only.",
    )
    location_en: str = Field(default="", max_length=64, description="The same in English, e.g. Ground-floor hall.")
    emergency_via_incidents: bool = Field(
        default=True,
        description=("Raise emergencies through the alarm engine's incidents.raise when it runs; else an alarm event."),
    )
    id_reader: IdReaderSection = IdReaderSection()
    printer: PrinterSection = PrinterSection()

    @field_validator("catalogue_file")
    @classmethod
    def _catalogue(cls, v: Path | None) -> Path | None:
        if v is not None:
            try:
                load_catalogue(v)
            except CatalogueError as exc:
                raise ValueError(str(exc)) from None
        return v

    @field_validator("location", "location_en")
    @classmethod
    def _one_line(cls, v: str) -> str:
        v = v.strip()
        bad = next((c for c in v if unicodedata.category(c).startswith("C")), None)
        if bad is not None:
            raise ValueError(f"must be one line of text (it has the control character U+{ord(bad):04X})")
        return v

    @model_validator(mode="before")
    @classmethod
    def _old_keys(cls, data: Any) -> Any:
        if isinstance(data, dict) and {"notice_key", "notice_key_file"} & set(data):
            raise ValueError(
                "kiosk.notice_key(_file) is gone: central signs commands with Ed25519 now; "
                "set commands.public_key_file to central's public key"
            )
        return data

    @model_validator(mode="after")
    def _check(self) -> KioskSection:
        if self.location_en and not self.location:
            raise ValueError(
                "kiosk.location_en is set but kiosk.location is not: set where the kiosk stands in Chinese"
            )
        if self.idle_warning >= self.idle_timeout:
            raise ValueError("kiosk.idle_warning must be shorter than kiosk.idle_timeout")
        if self.services is not None:
            try:
                self.catalogue()
            except CatalogueError as exc:
                raise ValueError(f"kiosk.services: {exc}") from None
        return self

    def catalogue(self) -> Catalogue:
        """The catalogue this station offers."""
        cat = load_catalogue(self.catalogue_file) if self.catalogue_file else DEFAULT_CATALOGUE
        return cat.only(self.services) if self.services is not None else cat
