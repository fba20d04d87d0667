"""SMS through Twilio: a Rasa 3.6 input channel that checks who is calling.

Compared with Rasa's own Twilio channel, this one
- always checks `X-Twilio-Signature` with twilio's RequestValidator over the configured public URL
  (403 otherwise); there is no switch to turn the check off, the demo uses a documented auth token;
- answers 200 with empty TwiML to a POST without `Body` (status callbacks, media-only messages);
- ignores a MessageSid it has already seen (Twilio retries when we are slow): a bounded in-memory
  set, shared through Redis when REDIS_URL is set (several Rasa processes);
- handles the whole-message keywords itself (sms_keywords; recorded by the backend, confirmed
  in both languages); "stop" inside a sentence is conversation;
- hands the bot the payload of the menu key a reply is ("2", "B"), the menu rebuilt from the
  conversation's last bot message in the tracker store (sms_choices);
- sends replies with Twilio's REST API in a worker thread (never blocking the event loop), after
  asking the backend whether the number has opted out, rendered for SMS (sms_render);
- names the conversation `sealing.conversation_id("sms", From)` (a keyed hash: knowing a number does
  not tell which conversation is its) and passes only the sealed identity
  `{METADATA_KEY: seal({"channel": "twilio_sms", "phone": From}, sender_id)}` as metadata, so the
  actions can identify the family and nobody else can write that value;
- sends a turn's replies to the phone of the request that started it (never derived from the
  conversation id);
- limits messages per phone and per client address (bot/channels/ratelimit.py): past the limit,
  one French text says so, then empty TwiML and nothing reaches Rasa;
- answers with a French "technical problem" text when a turn produced no reply (action server or
  backend down, bot/channels/answered.py).

Credentials (bot/credentials.yml)::

    bot.channels.twilio_sms.SignedTwilioInput:
      account_sid: "AC..."
      auth_token: "..."
      twilio_number: "+14185550199"
      public_url: "https://chat.example.ca"   # what Twilio calls, as seen from outside

Environment: BACKEND_URL, SERVICE_SECRET (backend opt-out routes), TWILIO_API_BASE (tests: a local
stand-in for api.twilio.com), REDIS_URL (optional), CITY_NAME / CITY_PHONE (keyword replies).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.base.exceptions import TwilioException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot import sealing
from bot.channels import sms_choices, sms_render
from bot.channels.answered import always_answered
from bot.channels.ratelimit import ChannelLimits
from bot.channels.sms_keywords import keyword_of
from bot.channels.sms_services import (
    BackendClient,
    ConversationPhones,
    SeenMessages,
    sealed_metadata,
    twilio_client,
)
from bot.channels.texts import text as catalog_text

logger = logging.getLogger(__name__)
# The twilio library logs every request's headers at INFO: noise in Rasa's log, one block per text.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

WEBHOOK_PATH = "/webhooks/twilio_sms/webhook"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

_ENV_REFERENCE = re.compile(r"\$\{(\w+)\}")


def _credential(credentials: dict[str, Any], key: str) -> str:
    """A credential, with `${VAR}` taken from the environment.

    Rasa 3.6 expands `${VAR}` only in unquoted YAML scalars; a quoted "${TWILIO_AUTH_TOKEN}" reaches
    the channel as is, and every request would then fail the signature check. Expanding here makes
    both spellings work; a variable that is not set is an error at start-up, not a silent 403.
    """
    value = str(credentials.get(key) or "")

    def expand(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ValueError(f"twilio_sms: {key} refers to ${{{name}}}, which is not set")
        return os.environ[name]

    return _ENV_REFERENCE.sub(expand, value)


def webhook_url(public_url: str) -> str:
    """The exact URL Twilio signs: the public base plus this channel's path (or a full URL)."""
    public_url = public_url.rstrip("/")
    return public_url if public_url.endswith(WEBHOOK_PATH) else public_url + WEBHOOK_PATH


class TwilioForm(dict):  # type: ignore[type-arg]
    """The webhook's form fields, blank values kept: Twilio signs `Body=` even when empty
    (a picture without text), and Sanic's own form parsing drops blank fields."""

    @classmethod
    def parse(cls, raw: bytes) -> TwilioForm:
        return cls(parse_qs(raw.decode("utf-8", errors="replace"), keep_blank_values=True))

    def getlist(self, name: str) -> list[str]:
        # The validator calls this for each parameter (repeated ones included).
        return list(self.get(name, []))

    def first(self, name: str) -> str | None:
        values = self.get(name)
        return values[0] if values else None


# --------------------------------------------------------------------------- output


class SignedTwilioOutput(OutputChannel):
    """Bot replies (and pushed messages) as text messages, unless the number opted out."""

    @classmethod
    def name(cls) -> str:
        return "twilio_sms"

    def __init__(
        self,
        client: Client,
        twilio_number: str,
        backend: BackendClient,
        phone: str | None = None,
        phones: ConversationPhones | None = None,
    ) -> None:
        self.client = client
        self.twilio_number = twilio_number
        self.backend = backend
        # The phone of the request this output answers; without one (a message pushed through
        # Rasa's API) the phone last seen in that conversation, kept in this process only.
        self.phone = phone
        self.phones = phones

    def _phone_of(self, recipient_id: str) -> str | None:
        if self.phone:
            return self.phone
        return self.phones.get(recipient_id) if self.phones is not None else None

    async def _may_send(self, phone: str) -> bool:
        try:
            return not await self.backend.is_opted_out(phone)
        except Exception:  # noqa: BLE001 - unknown status: do not text someone who may have said stop
            logger.error("opt-out status unavailable for a number; message not sent", exc_info=True)
            return False

    async def send_sms(self, phone: str, bodies: list[str], check_opt_out: bool = True) -> None:
        if check_opt_out and not await self._may_send(phone):
            logger.info("number opted out; %d message(s) not sent", len(bodies))
            return
        for body in bodies:
            try:
                # The twilio library is synchronous (requests): run it in a worker thread.
                await asyncio.to_thread(
                    self.client.messages.create, to=phone, from_=self.twilio_number, body=body
                )
            except TwilioException:
                logger.error("Twilio refused a message", exc_info=True)
                return

    async def _send_to(self, recipient_id: str, bodies: list[str]) -> None:
        phone = self._phone_of(recipient_id)
        if phone is None:
            logger.warning("no phone known for this conversation; %d text(s) not sent", len(bodies))
            return
        await self.send_sms(phone, bodies)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send_to(recipient_id, sms_render.render(text))

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        # The keys are not remembered here: the reply's menu is rebuilt from the tracker store.
        question = kwargs.get("utter_action")
        await self._send_to(recipient_id, sms_render.render(text, buttons, question))

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self._send_to(recipient_id, sms_render.render(image))

    async def send_attachment(  # type: ignore[override]
        self, recipient_id: str, attachment: Any, **kwargs: Any
    ) -> None:
        if isinstance(attachment, str):
            await self._send_to(recipient_id, sms_render.render(attachment))
        else:
            logger.warning("attachment not sendable by SMS; skipped")

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        # Custom payloads are for the web widget; an SMS only carries their text, if any.
        body = json_message.get("sms") or json_message.get("text")
        if isinstance(body, str) and body.strip():
            await self.send_text_message(recipient_id, body)


# --------------------------------------------------------------------------- input


class SignedTwilioInput(InputChannel):
    """Inbound text messages from Twilio's webhook, signature checked."""

    @classmethod
    def name(cls) -> str:
        return "twilio_sms"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        assert credentials is not None
        return cls(
            account_sid=_credential(credentials, "account_sid"),
            auth_token=_credential(credentials, "auth_token"),
            twilio_number=_credential(credentials, "twilio_number"),
            public_url=_credential(credentials, "public_url"),
        )

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        twilio_number: str,
        public_url: str,
        backend_url: str | None = None,
        service_secret: str | None = None,
        twilio_api_base: str | None = None,
        redis_url: str | None = None,
    ) -> None:
        if not auth_token:
            # Without the token no signature can be checked, and this channel never skips it.
            raise ValueError("twilio_sms: auth_token is required (the signature is always checked)")
        if not public_url:
            raise ValueError("twilio_sms: public_url is required (the URL Twilio signs)")
        self.account_sid = account_sid
        self.twilio_number = twilio_number
        self.url = webhook_url(public_url)
        self.validator = RequestValidator(auth_token)
        self.backend = BackendClient(
            backend_url or os.environ.get("BACKEND_URL", "http://127.0.0.1:8000"),
            service_secret or os.environ.get("SERVICE_SECRET", "dev-service-secret"),
        )
        self.client = twilio_client(
            account_sid, auth_token, twilio_api_base or os.environ.get("TWILIO_API_BASE")
        )
        self.seen = SeenMessages(redis_url=redis_url or os.environ.get("REDIS_URL") or None)
        self.phones = ConversationPhones()
        self.limits = ChannelLimits.from_env("SMS", address_per_minute=600)
        # Phones already told they were over the limit: one French text, then silence.
        self._told_over_limit: OrderedDict[str, None] = OrderedDict()
        self.city = os.environ.get("CITY_NAME", "Ville de Val-Fleuri")
        self.city_phone = os.environ.get("CITY_PHONE", "418 555-0199")
        self._tasks: set[asyncio.Task[None]] = set()

    def get_output_channel(self) -> OutputChannel:
        return SignedTwilioOutput(self.client, self.twilio_number, self.backend, phones=self.phones)

    def output_for(self, phone: str) -> SignedTwilioOutput:
        return SignedTwilioOutput(self.client, self.twilio_number, self.backend, phone=phone)

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        phone = TwilioForm.parse(request.body).first("From")
        if not phone:
            return None
        return sealed_metadata(phone, sealing.conversation_id("sms", phone))

    # ------------------------------------------------------------------ checks

    def signature_ok(self, request: Request, form: TwilioForm) -> bool:
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature:
            return False
        url = self.url + (f"?{request.query_string}" if request.query_string else "")
        return bool(self.validator.validate(url, form, signature))

    # ------------------------------------------------------------------ keywords

    def _keyword_reply(self, key: str) -> str:
        return catalog_text(key, city=self.city, phone=self.city_phone)

    async def _handle_keyword(self, keyword: str, phone: str) -> None:
        out = self.output_for(phone)
        try:
            if keyword == "stop":
                await self.backend.opt_out(phone)
                # The confirmation is the one message sent after opting out (required).
                await out.send_sms(phone, [self._keyword_reply("sms.stop")], check_opt_out=False)
            elif keyword == "start":
                await self.backend.opt_in(phone)
                await out.send_sms(phone, [self._keyword_reply("sms.start")])
            else:
                # Help is answered even to an opted-out number: it says how to come back.
                await out.send_sms(phone, [self._keyword_reply("sms.help")], check_opt_out=False)
        except (aiohttp.ClientError, asyncio.TimeoutError):
            logger.error("backend unavailable for SMS keyword %s", keyword, exc_info=True)
            await out.send_sms(phone, [self._keyword_reply("sms.unavailable")], check_opt_out=False)

    # ------------------------------------------------------------------ blueprint

    def _in_background(self, coro: Awaitable[None]) -> None:
        # Twilio waits at most 15 s for our answer and retries after; a turn with actions can
        # be slower, so the webhook answers at once and the reply goes out through the REST API.
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_failure)

    async def _over_limit(self, phone: str) -> None:
        """One French text the first time a phone goes over the limit, none after that."""
        if phone in self._told_over_limit:
            self._told_over_limit.move_to_end(phone)
            return
        self._told_over_limit[phone] = None
        while len(self._told_over_limit) > 20_000:
            self._told_over_limit.popitem(last=False)
        await self.output_for(phone).send_sms(phone, [self._keyword_reply("sms.too_many")])

    def _within_limits(self, request: Request, phone: str) -> bool:
        allowed = self.limits.allow(request.ip, phone)
        if allowed:
            self._told_over_limit.pop(phone, None)
        return allowed

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("twilio_sms_webhook", __name__)
        on_new_message = always_answered(on_new_message)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            form = TwilioForm.parse(request.body)
            if not self.signature_ok(request, form):
                logger.warning("twilio_sms: bad or missing X-Twilio-Signature")
                return response.text("", status=403)
            empty = response.text(EMPTY_TWIML, content_type="text/xml")
            phone = form.first("From")
            body = form.first("Body")
            sid = form.first("MessageSid") or form.first("SmsSid")
            if not phone or body is None or not body.strip():
                return empty
            if sid and not await self.seen.first_time(sid):
                logger.info("twilio_sms: retried MessageSid ignored")
                return empty
            sender_id = sealing.conversation_id("sms", phone)
            keyword = keyword_of(body)
            if keyword is not None:
                # Never rate limited: STOP must always work.
                self._in_background(self._handle_keyword(keyword, phone))
                return empty
            if not self._within_limits(request, phone):
                logger.warning("twilio_sms: message over the rate limit dropped")
                self._in_background(self._over_limit(phone))
                return empty
            self.phones.remember(sender_id, phone)
            agent = getattr(request.app.ctx, "agent", None)
            self._in_background(self._converse(agent, on_new_message, phone, body.strip()))
            return empty

        return bp

    async def _converse(
        self,
        agent: Any,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        phone: str,
        body: str,
    ) -> None:
        sender_id = sealing.conversation_id("sms", phone)
        try:
            text = await sms_choices.resolve(agent, sender_id, body)
        except Exception:  # noqa: BLE001 - tracker store down: the parent's words still count
            logger.error("twilio_sms: last question unavailable; kept as typed", exc_info=True)
            text = body
        message = UserMessage(
            text,
            self.output_for(phone),
            sender_id,
            input_channel=self.name(),
            metadata=sealed_metadata(phone, sender_id),
        )
        await on_new_message(message)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("twilio_sms: handling a message failed", exc_info=task.exception())
