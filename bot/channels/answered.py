"""Every turn a parent starts gets an answer, even when the action server or the backend is down.

Rasa 3.6 catches an action's failure inside `MessageProcessor._run_action` (a log line, the
action's events dropped) and ends the turn: the parent would see nothing and write again into the
void. Our channels hand Rasa a wrapped `on_new_message` that counts what the turn sent through
the message's output channel; a turn that sent nothing, or raised, ends with the French
"technical problem" sentence of the channels catalog. The tracker is untouched: the slots the
parent had filled are still there when the action server is back, and the conversation goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage

from bot.channels.texts import text as catalog_text

logger = logging.getLogger(__name__)

NO_ANSWER_KEY = "chat.no_answer"


def no_answer_text() -> str:
    return catalog_text(NO_ANSWER_KEY)


def always_answered(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
) -> Callable[[UserMessage], Awaitable[Any]]:
    """`on_new_message` that answers the parent when the turn itself did not."""

    async def handle(message: UserMessage) -> Any:
        output = message.output_channel
        sent = 0
        original = output.send_response

        async def counting(recipient_id: str, reply: dict[str, Any]) -> None:
            nonlocal sent
            sent += 1
            await original(recipient_id, reply)

        # On the instance only: the output channel keeps its class (Rasa checks it for REST).
        output.send_response = counting  # type: ignore[method-assign]
        result = None
        try:
            result = await on_new_message(message)
        except Exception:  # noqa: BLE001 - the parent must still hear that something went wrong
            logger.exception("a conversation turn failed")
        finally:
            output.send_response = original  # type: ignore[method-assign]
        if sent == 0:
            logger.warning("a turn produced no bot message; the channel answers for the bot")
            try:
                await output.send_text_message(message.sender_id, no_answer_text())
            except Exception:  # noqa: BLE001 - nothing more can be done for this turn
                logger.exception("the channel's own answer could not be sent")
        return result

    return handle
