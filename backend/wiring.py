"""What the web app and the staff command both build from the settings, built one way.

The payment gateway's values are signed and stateless, so the staff command's gateway and the
server's agree on every link and webhook without talking to each other.
"""

from __future__ import annotations

from backend.adapters.clock import Clock
from backend.adapters.local_gateway import LocalGateway
from backend.services import message_format
from backend.settings import Settings


def local_gateway(settings: Settings, clock: Clock) -> LocalGateway:
    return LocalGateway(
        secret=settings.link_secret,
        webhook_secret=settings.gateway_webhook_secret,
        webhook_url=f"{settings.public_base_url}/api/gateway/webhook",
        clock=clock,
    )


def configure_branding(settings: Settings) -> None:
    """The city's name, phone line and hours that every message signs with."""
    message_format.configure(
        message_format.Branding(
            city_name=settings.city_name,
            city_phone=settings.city_phone,
            city_hours=settings.city_hours,
            otp_minutes=settings.otp_minutes,
        )
    )
