"""Custom actions of the registration assistant.

Served by rasa_sdk: `rasa run actions --actions bot.actions`.

Importing the modules registers their Action classes with the SDK's executor.
"""

from . import cart, checkout, help, identification, registration  # noqa: F401
