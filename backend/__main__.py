"""`python -m backend`: the backend on BACKEND_HOST:BACKEND_PORT (default 127.0.0.1:8000), one
worker process (the demo clock, the outbox dispatcher and the jobs loop live in it)."""

from __future__ import annotations

import logging
import os
import sys

from backend.app import create_app
from backend.domain.help_desk import parse_hours
from backend.settings import Settings

# How long a thread may keep the GIL while another asks for it (CPython's default: 5 ms).
# Database work runs on a thread pool: a thread holding a hot week's row lock (or SQLite's
# write lock) gives the GIL up at every round trip to the database and, back with the answer,
# waited up to 5 ms for it while the event loop or a reader ran Python. Every parent queued on
# that lock waited as much. 1 ms: SQLite 51-53 -> 63-67 requests/s on registration night,
# PostgreSQL unchanged (docs/BENCHMARKS.md).
GIL_SWITCH_INTERVAL_SECONDS = 0.001


def main() -> None:
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_SECONDS)
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    settings = Settings.from_env()
    weak = settings.insecure_defaults()
    if weak and not settings.demo_mode:
        raise SystemExit(
            "Refusing to start outside demo mode with development secrets: "
            + ", ".join(weak)
            + " (see docs/DEPLOYMENT.md)."
        )
    undelivered = settings.delivery_problems()
    if undelivered and not settings.demo_mode:
        raise SystemExit(
            "Refusing to start outside demo mode: parents would not receive their messages: "
            + "; ".join(undelivered)
            + " (see docs/DEPLOYMENT.md)."
        )
    try:
        parse_hours(settings.help_desk_hours)
    except ValueError as error:
        raise SystemExit(f"HELP_DESK_HOURS: {error} (see docs/API.md, « Help desk »).") from None
    app = create_app(settings)
    app.run(
        host=os.environ.get("BACKEND_HOST", "127.0.0.1"),
        port=int(os.environ.get("BACKEND_PORT", "8000")),
        single_process=True,
        access_log=False,
        motd=False,
    )


if __name__ == "__main__":
    main()
