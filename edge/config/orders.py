"""The `[orders]` section: the station's side of work orders (what residents' reports become).

[orders]
# enabled = true     # default: on when the kiosk is (a station that takes reports works them)
hub_timeout = 3.0
sync_interval = 60
keep_closed_days = 90
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from edge.config.base import Strict

__all__ = ["OrdersSection"]


class OrdersSection(Strict):
    enabled: bool | None = Field(
        default=None, description="Run the work-orders component; unset: run it when the kiosk runs."
    )
    hub_timeout: Annotated[
        float,
        Field(gt=0, le=30, description="Seconds to wait for central when a resident checks a ticket not kept here."),
    ] = 3.0
    sync_interval: Annotated[
        float,
        Field(
            ge=1,
            le=3600,
            description="Seconds between asking central for the agreed state of orders with unconfirmed changes.",
        ),
    ] = 60.0
    keep_closed_days: Annotated[
        int,
        Field(
            ge=1,
            le=3650,
            description="Days a resolved or referred order (its description) is kept here once central agreed it.",
        ),
    ] = 90

    def runs(self, *, kiosk: bool) -> bool:
        """Whether the component runs, given whether the kiosk does."""
        return kiosk if self.enabled is None else self.enabled
