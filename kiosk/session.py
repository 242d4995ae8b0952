"""A resident's session at the kiosk: what they entered and what their card said, and the idle timeout.

The session is a small state machine driven by a clock passed in (a fake one in tests):

    IDLE --start()--> ACTIVE --(idle_timeout - warning) without a touch--> WARNING
    WARNING --touch()--> ACTIVE          WARNING --(warning seconds more)--> wiped, IDLE

`warning` is at least 20 s: that is how long a resident has to tap "continue". The wipe clears every
value entered, the card read, the chosen language and elder mode, and tells every listener (the UI
clears its widgets and the on-screen keyboard's learned words) so nothing of the resident stays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import Enum

from kiosk.validation import mask_id_number, mask_name

__all__ = ["MIN_WARNING_S", "CardIdentity", "ResidentSession", "SessionState"]

MIN_WARNING_S = 20.0


class SessionState(Enum):
    IDLE = "idle"  # nobody is using the kiosk: the attract loop runs
    ACTIVE = "active"
    WARNING = "warning"  # "are you still there?" with a countdown


@dataclass(frozen=True, repr=False)
class CardIdentity:
    """What a card tap gives a form. `repr` is masked: it may end up in a traceback."""

    name: str
    id_number: str
    gender: str = ""  # "male" | "female" | ""
    birth_date: date | None = None
    address: str = ""

    def __repr__(self) -> str:
        return f"CardIdentity({mask_name(self.name)}, {mask_id_number(self.id_number)})"

    __str__ = __repr__

    def field(self, name: str) -> str:
        if name == "birth_date":
            return self.birth_date.isoformat() if self.birth_date else ""
        value = getattr(self, name, "")
        return value if isinstance(value, str) else ""


class ResidentSession:
    def __init__(self, *, idle_timeout: float, warning: float, clock: Callable[[], float]) -> None:
        if warning < MIN_WARNING_S:
            raise ValueError(f"the warning must give at least {MIN_WARNING_S:g} s to continue")
        if idle_timeout <= warning:
            raise ValueError("idle_timeout must be longer than the warning")
        self.idle_timeout = idle_timeout
        self.warning = warning
        self._clock = clock
        self.state = SessionState.IDLE
        self._last_touch = 0.0
        self.values: dict[str, str] = {}
        self.card: CardIdentity | None = None
        self.lang = "zh"
        self.elder = False
        self.service_id = ""
        self.wipes = 0
        self._listeners: list[Callable[[], None]] = []

    def on_wipe(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    # ---- activity ------------------------------------------------------------------------------
    def start(self) -> None:
        self.state = SessionState.ACTIVE
        self._last_touch = self._clock()

    def touch(self) -> None:
        """Any tap or keystroke: the resident is still there (also answers the warning)."""
        if self.state is SessionState.IDLE:
            self.start()
            return
        self.state = SessionState.ACTIVE
        self._last_touch = self._clock()

    def poll(self) -> SessionState:
        """Advance the timeout; call it about once a second. Wipes when time is up."""
        if self.state is SessionState.IDLE:
            return self.state
        idle = self._clock() - self._last_touch
        if idle >= self.idle_timeout:
            self.wipe()
        elif idle >= self.idle_timeout - self.warning:
            self.state = SessionState.WARNING
        return self.state

    def seconds_left(self) -> float:
        """Seconds until the wipe (meaningful while ACTIVE or WARNING)."""
        if self.state is SessionState.IDLE:
            return 0.0
        return max(0.0, self.idle_timeout - (self._clock() - self._last_touch))

    # ---- data ----------------------------------------------------------------------------------
    def set_value(self, name: str, value: str) -> None:
        self.values[name] = value

    def apply_card(self, card: CardIdentity, fields: dict[str, str]) -> dict[str, str]:
        """Fill form fields from a card: `fields` maps form field name -> card field name."""
        self.card = card
        filled = {name: card.field(src) for name, src in fields.items() if card.field(src)}
        self.values.update(filled)
        return filled

    def end(self) -> None:
        """The resident finished: the same wipe as a timeout."""
        self.wipe()

    def wipe(self) -> None:
        self.values.clear()
        self.card = None
        self.lang = "zh"
        self.elder = False
        self.service_id = ""
        self.state = SessionState.IDLE
        self.wipes += 1
        for listener in list(self._listeners):
            listener()

    @property
    def holds_resident_data(self) -> bool:
        return bool(self.values) or self.card is not None
