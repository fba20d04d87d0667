"""Everything the backend reads from its environment, with the demo's defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from backend import city as city_facts
from backend.domain.sms_pacing import SendingCapacity


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _optional_int(value: str | None) -> int | None:
    return None if value is None or not value.strip() else int(value)


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///var/inscriptions.db"
    demo_mode: bool = False
    public_base_url: str = "http://localhost:8000"  # what links in SMS and courriels start with
    service_secret: str = "dev-service-secret"  # action server and bot channels
    link_secret: str = "dev-link-secret"  # signs payment links and family tokens' lookups
    widget_secret: str = "dev-widget-secret"  # shared with the city site (web chat identity)
    # Seals the health-insurance numbers of the fiches santé at rest: losing it loses them.
    health_key: str = "dev-health-key"
    # A fiche santé link (/sante/<token>) stays valid this long; reminders go this many days
    # before a camp week when the fiche is missing.
    health_link_days: int = 14
    health_reminder_days: int = 7
    # Stripe (docs/DEPLOYMENT.md). The defaults are localstripe's, for the demo and the tests;
    # production refuses to start with them. An empty API base means Stripe's own.
    stripe_secret_key: str = "sk_test_localstripe"
    stripe_publishable_key: str = "pk_test_localstripe"
    stripe_webhook_secret: str = "whsec_localstripe_development"
    stripe_api_base: str = ""
    stripe_js_url: str = "https://js.stripe.com/v3/"
    # Written into every payment's metadata: tells our payments from other applications' on the
    # city's Stripe account.
    stripe_app_name: str = "inscriptions-loisirs"
    # The city's facts file (backend/city.py): a name in backend/cities/ or a path. Its phone
    # and policies are the defaults of the settings below; the environment overrides them.
    city: str = "val-fleuri"
    city_name: str = "Ville de Val-Fleuri"
    city_phone: str = "418 555-0199"
    city_hours: str = "du lundi au vendredi, de 8 h 30 à 16 h 30"
    # When a person answers the help desk line (backend.domain.help_desk): ISO weekdays and
    # local hours; outside them the bot takes a callback request.
    help_desk_hours: str = "1-5 08:30-16:30"
    hold_minutes: int = 20
    # Registration night: an admitted family that does nothing for this long lets the next in.
    rush_idle_grace_minutes: int = 10
    # How often each backend worker runs the waiting room's admission step.
    rush_admit_every_seconds: float = 2.0
    # How often an open staff live view (/staff) reads the figures again.
    staff_live_poll_seconds: float = 2.0
    # The bot's push endpoint (bot/channels/webchat_push.py): where an admission message goes
    # into the parent's open web chat; empty, it stays in the outbox (a backend without bot).
    bot_push_url: str = ""
    # Demo mode only: how many seconds the demo clock moves per real second (a rehearsal of
    # registration night, bench/rush_rehearsal.py); 1 is real time.
    demo_clock_speed: float = 1.0
    offer_hours: int = 48
    pay_link_minutes: int = 30
    # Cancelled registrations (backend.domain.refunds.RefundPolicy): the fee kept of each one
    # that was paid, and how many days before its first day it must be cancelled to be
    # refunded at all (None: up to the day before).
    cancellation_fee_cents: int = 0
    refund_deadline_days: int | None = None
    otp_minutes: int = 10
    otp_max_attempts: int = 5
    otp_max_resends: int = 3
    family_token_minutes: int = 120
    db_workers: int = 8  # threads running database work: caps concurrent writers
    # Outbound messages: "outbox" keeps them in the database only (demo), "twilio"/"smtp" send.
    sms_backend: str = "outbox"
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from_number: str = ""
    twilio_api_base: str = ""  # tests point the real library at a local server
    # Sending through a Twilio Messaging Service (a pool of numbers, or a short code) instead of
    # one number; and what the numbers carry (docs/DEPLOYMENT.md "Sizing the sending numbers").
    twilio_messaging_service_sid: str = ""
    sms_senders: int = 1
    sms_segments_per_second: float = 1.0
    sms_reply_share: float = 0.5
    email_backend: str = "outbox"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_from: str = "inscriptions@val-fleuri.example"
    extra: dict[str, str] = field(default_factory=dict)
    # Identification limits, per rolling hour, counted in the database (every worker sees the
    # same counts). A parent who mistypes starts over two or three times; ten is never reached
    # by one, while a stranger trying client numbers or phones stops there.
    identify_per_phone_per_hour: int = 10
    identify_per_client_number_per_hour: int = 10
    # Per client address (X-Client-Address from the action server): several families may share
    # one address (a community centre, a library's computers, a mobile carrier's NAT).
    identify_per_address_per_hour: int = 60
    # Payment pages (/p/...), per client address, token bucket in each worker: a burst, then a
    # steady rate. Paying once is two requests (page, form), a declined card two more; a
    # family of four paying twice from one home stays far below.
    pay_burst: int = 40
    pay_per_minute: int = 20
    # Other public routes (the chat page, its static files, /health, /docs).
    public_burst: int = 200
    public_per_minute: int = 120
    # The client address behind a reverse proxy (Sanic's settings; docs/DEPLOYMENT.md).
    forwarded_secret: str = ""
    proxies_count: int = 0
    real_ip_header: str = ""
    # Law 25 retention (docs/OPERATIONS.md): outbox messages and Rasa conversations are deleted
    # this many days after they were written (a conversation: after its last event).
    retention_outbox_days: int = 30
    retention_conversation_days: int = 30
    tracker_database_url: str = ""  # Rasa's SQL tracker store; empty: nothing to purge here
    # City staff (docs/STAFF.md): a browser login lasts this long, a programmatic token that.
    staff_session_minutes: int = 480
    staff_token_days: int = 90
    # Courriel transport (docs/DEPLOYMENT.md): "starttls", "tls" (implicit) or "none".
    smtp_security: str = "none"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_ca_file: str = ""  # authorities to verify the server with; empty: the system's
    smtp_timeout_seconds: float = 15.0

    def insecure_defaults(self) -> list[str]:
        """Names of the secrets still at their development value.

        The demo may run with them; a production backend must not (anyone who read this file
        could mint family tokens or forge payment webhooks)."""
        base = Settings()
        secrets = {
            "SERVICE_SECRET": (self.service_secret, base.service_secret),
            "LINK_SECRET": (self.link_secret, base.link_secret),
            "WIDGET_SECRET": (self.widget_secret, base.widget_secret),
            "HEALTH_KEY": (self.health_key, base.health_key),
            "STRIPE_SECRET_KEY": (self.stripe_secret_key, base.stripe_secret_key),
            "STRIPE_PUBLISHABLE_KEY": (self.stripe_publishable_key, base.stripe_publishable_key),
            "STRIPE_WEBHOOK_SECRET": (self.stripe_webhook_secret, base.stripe_webhook_secret),
        }
        return [name for name, (value, default) in secrets.items() if value == default or not value]

    def sending_capacity(self) -> SendingCapacity | None:
        """What the city's numbers carry; None when texts only stay in the outbox (the demo)."""
        if self.sms_backend != "twilio":
            return None
        return SendingCapacity(
            senders=self.sms_senders,
            segments_per_second=self.sms_segments_per_second,
            reply_share=self.sms_reply_share,
        )

    def delivery_problems(self) -> list[str]:
        """Why textos or courriels would never reach a parent, naming the settings to fix.

        Outside demo mode the backend refuses to start on any: one-time codes and payment links
        kept in the outbox table would never arrive, and nobody would notice."""
        problems: list[str] = []
        if self.sms_backend != "twilio":
            problems.append(
                f"SMS_BACKEND={self.sms_backend}: textos would only stay in the outbox "
                "(set SMS_BACKEND=twilio)"
            )
        else:
            missing = [
                name
                for name, value in (
                    ("TWILIO_ACCOUNT_SID", self.twilio_account_sid),
                    ("TWILIO_AUTH_TOKEN", self.twilio_auth_token),
                    (
                        "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID",
                        self.twilio_from_number or self.twilio_messaging_service_sid,
                    ),
                )
                if not value
            ]
            if missing:
                problems.append("SMS_BACKEND=twilio without " + ", ".join(missing))
        if self.email_backend != "smtp":
            problems.append(
                f"EMAIL_BACKEND={self.email_backend}: courriels would only stay in the outbox "
                "(set EMAIL_BACKEND=smtp)"
            )
        elif self.smtp_security not in ("none", "starttls", "tls"):
            problems.append(f"SMTP_SECURITY={self.smtp_security}: use starttls, tls or none")
        elif self.smtp_username and self.smtp_security == "none":
            problems.append("SMTP_USERNAME set with SMTP_SECURITY=none: the password would travel "
                            "in clear (use starttls or tls)")
        elif bool(self.smtp_username) != bool(self.smtp_password):
            problems.append("SMTP_USERNAME and SMTP_PASSWORD go together")
        return problems

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        base = cls()
        city = city_facts.load(env.get("CITY", base.city))
        return cls(
            city=env.get("CITY", base.city),
            database_url=env.get("DATABASE_URL", base.database_url),
            demo_mode=_flag("DEMO_MODE"),
            public_base_url=env.get("PUBLIC_BASE_URL", base.public_base_url).rstrip("/"),
            service_secret=env.get("SERVICE_SECRET", base.service_secret),
            link_secret=env.get("LINK_SECRET", base.link_secret),
            widget_secret=env.get("WIDGET_SECRET", base.widget_secret),
            health_key=env.get("HEALTH_KEY", base.health_key),
            health_link_days=int(env.get("HEALTH_LINK_DAYS", base.health_link_days)),
            health_reminder_days=int(env.get("HEALTH_REMINDER_DAYS", base.health_reminder_days)),
            stripe_secret_key=env.get("STRIPE_SECRET_KEY", base.stripe_secret_key),
            stripe_publishable_key=env.get("STRIPE_PUBLISHABLE_KEY", base.stripe_publishable_key),
            stripe_webhook_secret=env.get("STRIPE_WEBHOOK_SECRET", base.stripe_webhook_secret),
            stripe_api_base=env.get("STRIPE_API_BASE", "").rstrip("/"),
            stripe_js_url=env.get("STRIPE_JS_URL", base.stripe_js_url),
            stripe_app_name=env.get("STRIPE_APP_NAME", base.stripe_app_name),
            city_name=env.get("CITY_NAME", city.name),
            city_phone=env.get("CITY_PHONE", city.phone),
            city_hours=env.get("CITY_HOURS", base.city_hours),
            help_desk_hours=env.get("HELP_DESK_HOURS", city.help_desk.as_setting()),
            hold_minutes=int(env.get("HOLD_MINUTES", city.policies.hold_minutes)),
            rush_idle_grace_minutes=int(
                env.get("RUSH_IDLE_GRACE_MINUTES", base.rush_idle_grace_minutes)
            ),
            rush_admit_every_seconds=float(
                env.get("RUSH_ADMIT_EVERY_SECONDS", base.rush_admit_every_seconds)
            ),
            staff_live_poll_seconds=float(
                env.get("STAFF_LIVE_POLL_SECONDS", base.staff_live_poll_seconds)
            ),
            bot_push_url=env.get("BOT_PUSH_URL", base.bot_push_url),
            demo_clock_speed=float(env.get("DEMO_CLOCK_SPEED", base.demo_clock_speed)),
            offer_hours=int(env.get("OFFER_HOURS", city.policies.offer_hours)),
            pay_link_minutes=int(env.get("PAY_LINK_MINUTES", city.policies.pay_link_minutes)),
            cancellation_fee_cents=int(
                env.get("CANCELLATION_FEE_CENTS", city.policies.refunds.fee_cents)
            ),
            refund_deadline_days=(
                _optional_int(env["REFUND_DEADLINE_DAYS"])
                if "REFUND_DEADLINE_DAYS" in env
                else city.policies.refunds.deadline_days
            ),
            db_workers=int(env.get("DB_WORKERS", base.db_workers)),
            sms_backend=env.get("SMS_BACKEND", base.sms_backend),
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID", ""),
            twilio_auth_token=env.get("TWILIO_AUTH_TOKEN", ""),
            twilio_from_number=env.get("TWILIO_FROM_NUMBER", ""),
            twilio_api_base=env.get("TWILIO_API_BASE", ""),
            twilio_messaging_service_sid=env.get("TWILIO_MESSAGING_SERVICE_SID", ""),
            sms_senders=int(env.get("SMS_SENDERS", base.sms_senders)),
            sms_segments_per_second=float(
                env.get("SMS_SEGMENTS_PER_SECOND", base.sms_segments_per_second)
            ),
            sms_reply_share=float(env.get("SMS_REPLY_SHARE", base.sms_reply_share)),
            email_backend=env.get("EMAIL_BACKEND", base.email_backend),
            smtp_host=env.get("SMTP_HOST", base.smtp_host),
            smtp_port=int(env.get("SMTP_PORT", base.smtp_port)),
            smtp_from=env.get("SMTP_FROM", base.smtp_from),
            identify_per_phone_per_hour=int(
                env.get("IDENTIFY_PER_PHONE_PER_HOUR", base.identify_per_phone_per_hour)
            ),
            identify_per_client_number_per_hour=int(
                env.get(
                    "IDENTIFY_PER_CLIENT_NUMBER_PER_HOUR", base.identify_per_client_number_per_hour
                )
            ),
            identify_per_address_per_hour=int(
                env.get("IDENTIFY_PER_ADDRESS_PER_HOUR", base.identify_per_address_per_hour)
            ),
            pay_burst=int(env.get("PAY_BURST", base.pay_burst)),
            pay_per_minute=int(env.get("PAY_PER_MINUTE", base.pay_per_minute)),
            public_burst=int(env.get("PUBLIC_BURST", base.public_burst)),
            public_per_minute=int(env.get("PUBLIC_PER_MINUTE", base.public_per_minute)),
            forwarded_secret=env.get("FORWARDED_SECRET", ""),
            proxies_count=int(env.get("PROXIES_COUNT", base.proxies_count)),
            real_ip_header=env.get("REAL_IP_HEADER", ""),
            retention_outbox_days=int(env.get("RETENTION_OUTBOX_DAYS", base.retention_outbox_days)),
            retention_conversation_days=int(
                env.get("RETENTION_CONVERSATION_DAYS", base.retention_conversation_days)
            ),
            tracker_database_url=env.get("TRACKER_DATABASE_URL", ""),
            staff_session_minutes=int(
                env.get("STAFF_SESSION_MINUTES", base.staff_session_minutes)
            ),
            staff_token_days=int(env.get("STAFF_TOKEN_DAYS", base.staff_token_days)),
            smtp_security=env.get("SMTP_SECURITY", base.smtp_security).strip().lower(),
            smtp_username=env.get("SMTP_USERNAME", ""),
            smtp_password=env.get("SMTP_PASSWORD", ""),
            smtp_ca_file=env.get("SMTP_CA_FILE", ""),
            smtp_timeout_seconds=float(env.get("SMTP_TIMEOUT_SECONDS", base.smtp_timeout_seconds)),
        )
