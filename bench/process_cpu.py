"""CPU time spent by processes during a measured phase, read from /proc (Linux).

A process group's CPU is the sum of utime + stime (/proc/<pid>/stat) over its live members: the
stack starts every child in a session of its own, so the group is the child and what it forked.
PostgreSQL's share is the server processes connected to the given databases, found in
`pg_stat_activity` by a sampler thread that keeps each one's last reading, so a connection
closed during the phase still counts up to its last sample.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import psycopg

TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(stat: str) -> float:
    # the command name (field 2) may hold spaces: split after its closing parenthesis
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14 and 15)


def _pgrp(stat: str) -> int:
    return int(stat[stat.rindex(")") + 2:].split()[2])


def pid_cpu(pid: int) -> float | None:
    try:
        return _cpu_seconds(Path(f"/proc/{pid}/stat").read_text())
    except (OSError, ValueError):
        return None


def group_cpu(pgid: int) -> float:
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if _pgrp(stat) == pgid:
            total += _cpu_seconds(stat)
    return total


class PostgresCpu:
    """The CPU seconds of the server processes serving `databases`, sampled every 0.2 s."""

    def __init__(self, admin_url: str, databases: list[str]) -> None:
        self.admin_url = admin_url
        self.databases = databases
        self.last: dict[int, float] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PostgresCpu:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def sample(self, connection: psycopg.Connection) -> None:
        pids = [row[0] for row in connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = ANY(%s)", (self.databases,))]
        with self._lock:
            for pid in pids:
                cpu = pid_cpu(pid)
                if cpu is not None:
                    self.last[pid] = max(cpu, self.last.get(pid, 0.0))

    def _run(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            while not self._stop.wait(0.2):
                self.sample(connection)

    def snapshot(self) -> dict[int, float]:
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            self.sample(connection)
        with self._lock:
            return dict(self.last)


def spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two snapshots (a process born in between started at zero)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())
