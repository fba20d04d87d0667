"""What the outbox's dispatcher needs from a texto or courriel provider.

The adapters (`backend.adapters.sms`, `backend.adapters.email`) implement these; the services
depend on the protocols only, so a provider is swapped without touching a use case.
"""

from __future__ import annotations

from typing import Protocol


class DeliveryError(Exception):
    """A provider refused or could not take a message.

    `kind` is a short, stable label stored as the message's `last_error` (never the body, never a
    recipient); `permanent` means trying again cannot help (an invalid number, a refused address),
    so the dispatcher gives the message up instead of scheduling another attempt.
    """

    def __init__(self, kind: str, *, permanent: bool = False) -> None:
        super().__init__(kind)
        self.kind = kind[:40]
        self.permanent = permanent


class SmsSender(Protocol):
    async def send(self, *, to: str, body: str) -> str:
        """Send one text message; returns the provider's message id; raises on failure."""
        ...


class EmailSender(Protocol):
    async def send(self, *, to: str, subject: str, body: str) -> str:
        """Send one courriel; returns the provider's message id; raises on failure."""
        ...


class ChatSender(Protocol):
    async def send(self, *, conversation: str, text: str) -> str:
        """Put one message into an open conversation as the bot's own; returns an id."""
        ...
