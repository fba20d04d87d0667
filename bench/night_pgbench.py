"""pgbench on a fresh copy of the demo city with bench families: bench/pg_equivalent.sql (our
route's statements) or bench/pg_floor.sql (one conditional UPDATE and one INSERT), for one
workload's weeks. Returns transactions (reservations) per second."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from night_seed import add_families, drop_postgres, every_session, fresh_postgres, hot_session, seed
from sqlalchemy import text

FAMILIES = 2000


def pgbench_rates(root: Path, workload: str, script: str, *, clients: int,
                  seconds: float) -> float:
    url = fresh_postgres()
    try:
        engine = seed(url)
        weeks = [hot_session(engine)] if workload == "one week" else every_session(engine)
        asks = add_families(engine, [weeks[i % len(weeks)] for i in range(FAMILIES)])
        with engine.begin() as conn:
            # Floor needs a cart per family; the equivalent makes its own, as our route does.
            conn.execute(text("INSERT INTO cart (family_id, is_open, created_at)"
                              " SELECT id, true, localtimestamp FROM family WHERE id >= :f"
                              " ORDER BY id"), {"f": asks[0].family_id})
            first_cart = int(conn.scalar(text("SELECT min(id) FROM cart WHERE family_id >= :f"),
                                         {"f": asks[0].family_id}))
            conn.execute(text("UPDATE family_session SET token_hash = lpad(family_id::text, 64,"
                              " '0') WHERE family_id >= :f"), {"f": asks[0].family_id})
            pools = [int(p) for p in conn.scalars(text(
                "SELECT pool_id FROM session WHERE id = ANY(:ids)"), {"ids": weeks})]
        engine.dispose()
        first = asks[0].family_id
        variables = {"first_family": first, "families": FAMILIES,
                     "child_offset": asks[0].child_id - first, "cart_offset": first_cart - first,
                     "first_session": min(weeks), "last_session": max(weeks),
                     "first_pool": min(pools), "last_pool": max(pools)}
        command = ["pgbench", "-n", "-M", "prepared", f"-c{clients}", "-j2",
                   f"-T{max(1, round(seconds))}", "-f", str(root / "bench" / f"{script}.sql")]
        for name, value in variables.items():
            command += ["-D", f"{name}={value}"]
        command.append(url.replace("postgresql+psycopg://", "postgresql://"))
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        found = re.search(r"tps = ([\d.]+) \(without initial", done.stdout)
        if done.returncode != 0 or not found:
            raise RuntimeError(f"pgbench failed:\n{done.stdout}\n{done.stderr}")
        return float(found.group(1))
    finally:
        drop_postgres(url)
