"""Every local API method of the product, for the docs, `rpc.methods` and the role tests."""

from __future__ import annotations

from typing import Any

from edge.wire.api import core, incidents, kiosk, orders, patrol, vision
from edge.wire.api.base import Method

__all__ = ["ALL_METHODS", "BY_NAME"]

ALL_METHODS: tuple[Method[Any, Any], ...] = tuple(
    m
    for module in (core, incidents, kiosk, orders, patrol, vision)
    for m in vars(module).values()
    if isinstance(m, Method)
)
BY_NAME: dict[str, Method[Any, Any]] = {m.name: m for m in ALL_METHODS}
