"""Every part of the hub's database with a schema version of its own, in the order start-up migrates them.

The core (hub/schema.py) first: a part may index a core table (`incidents` indexes `events`). A module that
owns tables declares its `PART` beside its code; a new one is added here, and to the table of parts in
docs/operations.md.
"""

from __future__ import annotations

from typing import Final

from hub import bulletin_desk, kiosk_db
from hub.migrations import Part
from hub.schema import CORE
from hub.web import accounts, notices, orders, patrol, plate_hits, pushlog, queries, response_times, watchlist
from hub.web.db import Db

__all__ = ["PARTS", "migrate_parts"]

PARTS: Final[tuple[Part, ...]] = (
    CORE,
    kiosk_db.PART,
    accounts.PART,
    queries.PART,
    response_times.PART,
    pushlog.PART,
    watchlist.PART,
    notices.PART,
    plate_hits.PART,
    patrol.PART,
    orders.PART,
    bulletin_desk.PART,
)


def migrate_parts(url: str) -> dict[str, int]:
    """Bring every part of the database at `url` to its latest version (after `open_store`, which makes a
    new SQLite file private); returns the version each had before. A part newer than this code knows raises
    `SchemaTooNewError` and nothing is changed."""
    db = Db(url)
    try:
        return db.migrate(PARTS)
    finally:
        db.close()
