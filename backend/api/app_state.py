"""The app's shared state (database, clock, adapters) and database work off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar, cast

from sanic import Request, Sanic
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from backend.adapters.clock import Clock
from backend.adapters.gateway import PaymentGateway
from backend.adapters.ports import ChatSender, EmailSender, SmsSender
from backend.db.engine import TransactionConflict, run_transaction
from backend.domain.errors import RegistrationError
from backend.services import auth, refund_sender
from backend.settings import Settings

T = TypeVar("T")
U = TypeVar("U")


@dataclass
class AppState:
    settings: Settings
    clock: Clock
    gateway: PaymentGateway
    sms: SmsSender
    email: EmailSender
    engine: Engine
    session_factory: sessionmaker[Session]
    executor: ThreadPoolExecutor
    dispatch_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    tokens: auth.TokenCache = field(default_factory=auth.TokenCache)
    # Into the parent's open chat (the bot's push endpoint); None: chat messages wait.
    chat: ChatSender | None = None

    async def family_for_token(self, token: str | None) -> int | None:
        """The family of a valid family token, or None; from memory once seen (TokenCache)."""
        if not token or len(token) > 64:
            return None
        now = self.clock.now()
        known = self.tokens.family(token, now)
        if known is not None:
            return known
        found = await self.db(lambda db: auth.token_session(db, token), write=False)
        if found is None:
            return None
        family_id, expires_at = found
        self.tokens.remember(token, family_id, expires_at)
        return family_id if expires_at > now else None

    def _in_transaction(self, fn: Callable[[Session], T], write: bool) -> T:
        # A transaction PostgreSQL aborts (deadlock, serialization failure) is run again here,
        # transparently; only when every attempt failed does the caller hear `conflict`.
        try:
            return run_transaction(self.session_factory, fn, write=write)
        except TransactionConflict:
            raise RegistrationError("conflict") from None

    async def db(self, fn: Callable[[Session], T], *, write: bool = True) -> T:
        """Run `fn(db)` in one transaction on the bounded database thread pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, partial(self._in_transaction, fn, write))

    async def db_then_read(
        self, fn: Callable[[Session], T], read: Callable[[Session], U]
    ) -> tuple[T, U]:
        """`fn` in a write transaction, then, once it is committed, `read` in a read
        transaction: one trip to the thread pool. For a write whose answer also shows a view
        (the cart after an add) that need not be read while the write's locks are held."""

        def both() -> tuple[T, U]:
            first = self._in_transaction(fn, True)
            return first, self._in_transaction(read, False)

        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, both)

    async def send_refunds(self) -> dict[str, int]:
        """After a write that may have recorded refunds (cancellations, payments): ask the
        provider for them, outside any transaction (`backend.services.refund_sender`)."""
        return await self.run_sync(
            lambda: refund_sender.send_pending(
                self.session_factory, gateway=self.gateway, clock=self.clock
            )
        )

    async def run_sync(self, fn: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, fn)


def state(request: Request) -> AppState:
    return cast(AppState, request.app.ctx.state)


def app_state(app: Sanic[Any, Any]) -> AppState:
    return cast(AppState, app.ctx.state)


