"""One port in front of several Rasa processes: each TCP connection goes, whole, to the next
process in turn (round robin), and its bytes are relayed both ways until either side closes.

Per connection, not per request, is what the web chat needs: the widget's socket.io session is
one websocket (backend/web/static/chat.js asks for that transport only), so every message of a
socket stays on the process that opened it. Any message may reach any process otherwise: the
processes share the conversation locks (Redis) and the tracker store (PostgreSQL), see
docs/DEPLOYMENT.md, "Several Rasa processes". A process that refuses the connection is skipped.

Standard library only, so it runs in either environment:

    python scripts/balancer.py --port 5005 --upstream 127.0.0.1:5101 --upstream 127.0.0.1:5102
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import signal
import sys

CHUNK = 64 * 1024


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        if not writer.is_closing():
            try:
                writer.write_eof()
            except (OSError, RuntimeError):
                writer.close()


class Balancer:
    def __init__(self, upstreams: list[tuple[str, int]]) -> None:
        self.upstreams = upstreams
        self._turn = itertools.cycle(range(len(upstreams)))

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        last: OSError | None = None
        for _ in self.upstreams:
            host, port = self.upstreams[next(self._turn)]
            try:
                return await asyncio.open_connection(host, port)
            except OSError as error:
                last = error
        raise last or OSError("no upstream")

    async def handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await self._open()
        except OSError:
            client_w.close()
            return
        try:
            await asyncio.gather(_pipe(client_r, up_w), _pipe(up_r, client_w))
        finally:
            for w in (up_w, client_w):
                w.close()


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


async def serve(host: str, port: int, upstreams: list[tuple[str, int]]) -> None:
    balancer = Balancer(upstreams)
    server = await asyncio.start_server(balancer.handle, host, port, reuse_address=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", action="append", required=True, help="host:port")
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port, [_address(u) for u in args.upstream]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
