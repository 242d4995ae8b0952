"""A monotonic clock a test moves by hand (`clock.t += 30`): for sessions and their idle wipe."""

from __future__ import annotations

__all__ = ["FakeClock"]


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t
