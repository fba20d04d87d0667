"""Custom actions of the registration assistant.

Served by rasa_sdk: `rasa run actions --actions bot.actions`.

Importing the modules registers their Action classes with the SDK's executor.
"""

from sanic import Sanic
from sanic.exceptions import SanicException

from . import (  # noqa: F401
    cart,
    checkout,
    conversation,
    help,
    helpdesk_faq,
    helpdesk_health,
    helpdesk_human,
    helpdesk_human_signup,
    helpdesk_state,
    helpdesk_state_cancel,
    identification,
    registration,
    session,
)
from .backend_client import backend


def _close_backend_on_stop() -> None:
    """rasa_sdk creates its Sanic app before importing the actions: hook the client's cleanup
    to it, so a stopping action server closes its connections instead of leaking them."""
    try:
        app = Sanic.get_app("rasa_sdk")
    except SanicException:  # imported outside the action server (tests, scripts)
        return

    async def close_backend(*_: object) -> None:
        await backend.aclose()

    app.register_listener(close_backend, "after_server_stop")


_close_backend_on_stop()
