"""The service catalogue: which services a station offers, their forms and their bilingual wording.

A catalogue is data (msgspec Structs), loaded from the built-in default (`kiosk.catalogue_default`) or
from a TOML/JSON file named in the station configuration, then narrowed to the services the station
offers. Loading is strict: unknown keys are errors and the message names the file and the key path.
The same Structs travel to the touchscreen through the daemon's `kiosk.catalogue` method.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

import msgspec

__all__ = [
    "Catalogue",
    "CatalogueError",
    "Choice",
    "FieldKind",
    "FieldSpec",
    "ServiceKind",
    "ServiceSpec",
    "Text",
    "catalogue_from_data",
    "catalogue_to_data",
    "load_catalogue",
]

FieldKind = Literal["text", "multiline", "name", "phone", "id_number", "date", "choice", "plate"]
ServiceKind = Literal[
    "report", "appointment", "lookup", "ticket", "notices", "call_officer", "emergency", "patrol", "report_status"
]
#: Which card field fills a form field when a resident taps their ID card.
CardField = Literal["", "name", "id_number", "address", "birth_date", "gender"]
#: Field kinds that hold personal data: masked on screen and on receipts, wiped at session end.
PERSONAL_KINDS: frozenset[str] = frozenset({"name", "phone", "id_number"})
_ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class CatalogueError(ValueError):
    """The catalogue is malformed; the message names the source and the key path."""


class Text(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A wording in both languages the kiosk speaks."""

    zh: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


class Choice(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    value: str
    label: Text


class FieldSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: str
    kind: FieldKind
    label: Text
    required: bool = True
    max_length: int = 200
    choices: tuple[Choice, ...] = ()
    hint: Text | None = None
    card: CardField = ""  # the card field that fills this one on a card tap
    min_days: int = 0  # dates: earliest day from today
    max_days: int = 30  # dates: latest day from today

    @property
    def personal(self) -> bool:
        return self.kind in PERSONAL_KINDS or self.card in ("name", "id_number", "address", "birth_date")


class ServiceSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: str
    kind: ServiceKind
    title: Text
    subtitle: Text = Text("", "")
    icon: str = ""  # a short symbol drawn on the tile (emoji-free: one or two CJK characters or letters)
    category: str = ""  # report: dispute | hazard; appointment: id_card | household; ticket: queue name
    fields: tuple[FieldSpec, ...] = ()
    elder: bool = False  # offered in elder mode (fewer, simpler choices)

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


class Catalogue(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    version: int = 1
    services: tuple[ServiceSpec, ...]

    def service(self, service_id: str) -> ServiceSpec:
        for s in self.services:
            if s.id == service_id:
                return s
        raise KeyError(service_id)

    def ids(self) -> list[str]:
        return [s.id for s in self.services]

    def for_elders(self) -> tuple[ServiceSpec, ...]:
        return tuple(s for s in self.services if s.elder)

    def only(self, ids: list[str] | tuple[str, ...]) -> Catalogue:
        """The services named, in that order; an unknown id is an error naming it."""
        known = {s.id: s for s in self.services}
        missing = [i for i in ids if i not in known]
        if missing:
            raise CatalogueError(f"unknown service ids {missing}; the catalogue has {sorted(known)}")
        return Catalogue(version=self.version, services=tuple(known[i] for i in ids))


def _check(cat: Catalogue, source: str) -> Catalogue:
    seen: set[str] = set()
    for i, s in enumerate(cat.services):
        where = f"{source}: services[{i}]"
        if not _ID_RE.match(s.id):
            raise CatalogueError(f"{where}.id = {s.id!r}: must be lower-case letters, digits and _")
        if s.id in seen:
            raise CatalogueError(f"{where}.id = {s.id!r}: used twice")
        seen.add(s.id)
        names: set[str] = set()
        for j, f in enumerate(s.fields):
            fwhere = f"{where}.fields[{j}]"
            if not _ID_RE.match(f.name) or f.name in names:
                raise CatalogueError(f"{fwhere}.name = {f.name!r}: must be a unique lower-case identifier")
            names.add(f.name)
            if f.kind == "choice" and not f.choices:
                raise CatalogueError(f"{fwhere}.choices: a choice field needs at least one choice")
            if not 1 <= f.max_length <= 2000:
                raise CatalogueError(f"{fwhere}.max_length = {f.max_length}: must be 1..2000")
            if not 0 <= f.min_days <= f.max_days <= 365:
                raise CatalogueError(f"{fwhere}: need 0 <= min_days <= max_days <= 365")
    if not cat.services:
        raise CatalogueError(f"{source}: services: the catalogue offers no service")
    return cat


def catalogue_from_data(data: Any, *, source: str = "<catalogue>") -> Catalogue:
    try:
        cat = msgspec.convert(data, Catalogue, strict=True)
    except msgspec.ValidationError as exc:
        raise CatalogueError(f"{source}: {exc}") from None
    return _check(cat, source)


def catalogue_to_data(cat: Catalogue) -> dict[str, Any]:
    out = msgspec.to_builtins(cat)
    assert isinstance(out, dict)
    return out


def load_catalogue(path: Path) -> Catalogue:
    """A catalogue from a `.toml` or `.json` file (`[[services]]` tables)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CatalogueError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode()) if path.suffix == ".toml" else msgspec.json.decode(raw)
    except (tomllib.TOMLDecodeError, msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"{path}: not valid {path.suffix.lstrip('.').upper() or 'JSON'}: {exc}") from None
    return catalogue_from_data(data, source=str(path))
