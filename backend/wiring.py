"""What the web app and the staff command both build from the settings, built one way.

The payment gateway keeps no state of its own (the provider and our database do), so the staff
command's gateway and the server's agree without talking to each other.
"""

from __future__ import annotations

from backend.adapters.stripe_gateway import StripeGateway
from backend.services import message_format
from backend.settings import Settings


def payment_gateway(settings: Settings) -> StripeGateway:
    """Stripe at its own address, or at STRIPE_API_BASE (localstripe in the demo and tests)."""
    return StripeGateway(
        secret_key=settings.stripe_secret_key,
        webhook_secret=settings.stripe_webhook_secret,
        app_name=settings.stripe_app_name,
        api_base=settings.stripe_api_base or None,
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
