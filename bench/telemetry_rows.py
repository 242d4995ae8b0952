"""Bytes per telemetry history row (raw, minute) on PostgreSQL and SQLite, for docs/operations.md.

20,000 rows of each (100 stations, two cameras each) written through the stores as the hub writes them;
PostgreSQL: the partitions' total size (heap and index); SQLite: the table's pages (`dbstat`).
Run: `PYTHONPATH=. .venv/bin/python bench/telemetry_rows.py` (a throwaway PostgreSQL cluster, ~10 s).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hub.store import PostgresStore, SqliteStore
from hub.telemetry_history import MinuteAggregator, MinuteRow, Sample
from tests.support.pg import PostgresCluster

N = 20_000
T0 = 1_800_000_000.0


def rows() -> tuple[list[tuple[str, float, Sample]], list[MinuteRow]]:
    agg, raw, minutes = MinuteAggregator(), [], []
    for i in range(N):
        station, t = f"SZ-FT-{i % 100:04d}", T0 + (i // 100) * 60.0
        cams = {"gate-east": [1000.0 + i, 150.0, 1], "gate-west": [2000.0 + i, 230.0, 1]}
        s = Sample(i % 7, "connected", 0.7, 9000.5, 800.25, json.dumps(cams, separators=(",", ":")))
        raw.append((station, t, s))
        minutes += agg.add(station, s, t)
    return raw, minutes + agg.flush()


def main() -> None:
    raw, minutes = rows()
    cluster = PostgresCluster()
    cluster.start()
    try:
        pg = PostgresStore(cluster.url)
        for i in range(0, N, 2000):
            pg.update_telemetry_many([], raw[i : i + 2000], minutes[i : i + 2000])
        with pg.conn.transaction(), pg.conn.cursor() as cur:
            for table in ("telemetry_raw", "telemetry_minute"):
                cur.execute(
                    "SELECT SUM(pg_total_relation_size(c.oid)) FROM pg_inherits i JOIN pg_class c "
                    "ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
                    (table,),
                )
                row = cur.fetchone()
                print(f"postgresql {table}: {round(int(row[0] if row else 0) / N)} bytes/row")
        pg.close()
    finally:
        cluster.stop()
    for table in ("telemetry_raw", "telemetry_minute"):
        lite = SqliteStore(Path(tempfile.mkdtemp()) / "hub.db")
        for i in range(0, N, 2000):
            if table == "telemetry_raw":
                lite.update_telemetry_many([], raw[i : i + 2000])
            else:
                lite.update_telemetry_many([], (), minutes[i : i + 2000])
        lite.db.execute("VACUUM")
        pages = lite.db.execute("SELECT SUM(pgsize) FROM dbstat WHERE name = ?", (table,)).fetchone()[0]
        print(f"sqlite {table}: {round(pages / N)} bytes/row")
        lite.close()


if __name__ == "__main__":
    main()
