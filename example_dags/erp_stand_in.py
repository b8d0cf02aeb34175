"""The ERP of the example DAGs: sales orders keyed by VTEX's order id, in a SQLite file.

Replace it with your ERP's client. What the examples rely on, and what your ERP must offer in its place:
**creating a sales order is keyed by VTEX's order id**, checked in the same transaction that creates
the order (a unique key, ``INSERT ... ON CONFLICT DO NOTHING``, an ERP's "external reference"). VTEX's
feed is at least once: an order's event comes again after a crash, a visibility timeout or a duplicate
on VTEX's side, and two overlapping runs may both hold it. With the key, an order handed over again is
recognised and not created twice, whichever run, try or crash brought it.

Each hand-over is also written down (``hand_offs``: the order, when, whether it created the sales
order, and which task try did it), so the deployment tests can count what reached the ERP.

The file is ``$VTEX_EXAMPLE_ERP_DATABASE``, or ``vtex-example-erp.sqlite3`` in the temporary folder.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path
from typing import Any

DATABASE_ENV_VAR = "VTEX_EXAMPLE_ERP_DATABASE"

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS sales_orders (vtex_order_id TEXT PRIMARY KEY, value INTEGER, "
    "items TEXT, created_at TEXT NOT NULL, created_by TEXT)",
    "CREATE TABLE IF NOT EXISTS hand_offs (vtex_order_id TEXT NOT NULL, at TEXT NOT NULL, "
    "created INTEGER NOT NULL, by TEXT)",
)


def database() -> Path:
    """Where the stand-in ERP keeps its sales orders."""
    return Path(os.environ.get(DATABASE_ENV_VAR) or Path(tempfile.gettempdir()) / "vtex-example-erp.sqlite3")


def create_sales_orders(orders: list[dict[str, Any]], by: str | None = None) -> list[str]:
    """Create a sales order for each VTEX order not yet in the ERP; return every id the ERP now holds.

    ``orders`` are dicts with ``order_id`` (and ``value``, ``items`` when known). An order the ERP holds
    already is not created again: its id is returned all the same, so the caller goes on with it (starts
    handling it at VTEX, which reads the order first).
    """
    now = dt.datetime.now(dt.timezone.utc).isoformat()
    held: list[str] = []
    with closing(sqlite3.connect(database(), timeout=60)) as db, db:
        for statement in _SCHEMA:
            db.execute(statement)
        for order in orders:
            order_id = str(order["order_id"])
            created = db.execute(
                "INSERT INTO sales_orders VALUES (?, ?, ?, ?, ?) ON CONFLICT (vtex_order_id) DO NOTHING",
                (order_id, order.get("value"), repr(order.get("items")), now, by),
            ).rowcount
            db.execute("INSERT INTO hand_offs VALUES (?, ?, ?, ?)", (order_id, now, created, by))
            held.append(order_id)
    return held


def held(order_ids: list[str]) -> list[str]:
    """The ids among ``order_ids`` the ERP holds a sales order for (hands nothing over)."""
    with closing(sqlite3.connect(database(), timeout=60)) as db:
        for statement in _SCHEMA:
            db.execute(statement)
        found = {
            row[0]
            for row in db.execute(
                f"SELECT vtex_order_id FROM sales_orders WHERE vtex_order_id IN ({','.join('?' * len(order_ids))})",
                order_ids,
            )
        }
    return [order_id for order_id in order_ids if order_id in found]


def counts() -> dict[str, Any]:
    """What the ERP received: sales orders, hand-overs, and the orders created more than once (none,
    by the key) or handed over more than once (a duplicate event or a retry: recognised)."""
    with closing(sqlite3.connect(database(), timeout=60)) as db:
        for statement in _SCHEMA:
            db.execute(statement)
        sales_orders = db.execute("SELECT COUNT(*) FROM sales_orders").fetchone()[0]
        hand_offs = db.execute("SELECT COUNT(*) FROM hand_offs").fetchone()[0]
        created_twice = db.execute(
            "SELECT COUNT(*) FROM (SELECT vtex_order_id FROM hand_offs WHERE created = 1 "
            "GROUP BY vtex_order_id HAVING COUNT(*) > 1)"
        ).fetchone()[0]
        handed_twice = db.execute(
            "SELECT COUNT(*) FROM (SELECT vtex_order_id FROM hand_offs GROUP BY vtex_order_id "
            "HAVING COUNT(*) > 1)"
        ).fetchone()[0]
    return {
        "sales_orders": sales_orders,
        "hand_offs": hand_offs,
        "created_twice": created_twice,
        "handed_over_again": handed_twice,
    }
