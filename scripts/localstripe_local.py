"""Runs localstripe (a fake, stateful Stripe server) for the demo and the tests, on 127.0.0.1.

localstripe's own entry point listens on every interface and saves its state to a file shared by
every process on the machine; this launcher binds the loopback interface only and keeps the state
in memory, so each process starts from scratch and parallel runs do not see each other's data.
localstripe is GPL-3.0: a development and demo dependency, run as its own process, never
imported by the backend.
"""

from __future__ import annotations

import argparse
import logging
import socket

from aiohttp import web
from localstripe import server
from localstripe.resources import store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()

    store.dump_to_disk = lambda: None  # type: ignore[method-assign]  # memory only

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    logging.basicConfig(level=logging.INFO, format="localstripe %(message)s")
    web.run_app(server.app, sock=sock, access_log=None, print=None)


if __name__ == "__main__":
    main()
