"""Who is talking: session start (widget or SMS metadata), the identification form, code resend.

The one-time code is read from the latest message inside the validator, sent to the backend,
and forgotten: the id_code slot only ever holds "ok" or "locked", and the code is never logged.
"""

from __future__ import annotations

import logging
import os
import re
from functools import cache
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import sealing

from . import facts, parsing
from .asking import AskAction, repair_events
from .backend_client import BackendError, backend
from .digressions import small_talk
from .helpdesk_faq_values import hours_text
from .reading import lexicon
from .session import identified_events
from .turns import activating, is_interruption, latest_text, new_user_turn

log = logging.getLogger(__name__)


async def help_line_events(domain: DomainDict) -> list[EventType]:
    """The city's help line and hours, from the backend's city facts (GET /api/facts); the
    action server's CITY_PHONE / CITY_HOURS when the backend cannot be reached."""
    phone = os.environ.get("CITY_PHONE", "418 555-0199")
    hours = os.environ.get("CITY_HOURS", "du lundi au vendredi, de 8 h 30 à 16 h 30")
    try:
        city = (await backend.facts())["city"]
        phone, hours = str(city["phone"]), hours_text(city, domain)
    except BackendError as err:
        log.info("facts unavailable for the help line: %s", err.code)
    return [SlotSet("help_phone", phone), SlotSet("help_hours", hours)]


def opening_client_number(text: str) -> str | None:
    """A client number in a message that was not an answer to "quel est votre numéro de client ?"
    ("allo, mon numéro de client c'est 100001, je veux inscrire Léa"): named as one, or six
    digits alone, so that a year or an age is not taken for it."""
    rest = parsing.without_phone(text)
    if not (_client_cue().search(rest) or re.search(r"(?<!\d)\d{6}(?!\d)", rest)):
        return None
    return parsing.parse_client_number(rest)


@cache
def _client_cue() -> re.Pattern[str]:  # noqa: N802 - a compiled constant, built on first use
    return lexicon.pattern("identification", "client_cue")


# Which identity each input channel may vouch for; no other channel passes one.
_CHANNEL_IDENTITY = {"twilio_sms": "phone", "socketio": "widget_token"}


def channel_identity(
    metadata: dict[str, Any] | None, sender_id: str, input_channel: str | None
) -> tuple[str, str] | None:
    """("phone" | "widget_token", value) sealed by our channel for this conversation, or None.

    Only `sealing.unseal(metadata[METADATA_KEY], sender_id)` is trusted, and only when the channel
    it names is the message's input channel (at session start the message is not logged yet and
    `input_channel` is None: the seal alone, bound to this conversation, says which channel).
    Plain `phone` / `widget_token` keys are what any client can write: ignored.
    """
    if not isinstance(metadata, dict):
        return None
    payload = sealing.unseal(metadata.get(sealing.METADATA_KEY), sender_id)
    if payload is None:
        return None
    channel = payload.get("channel")
    if input_channel is not None and channel != input_channel:
        return None
    key = _CHANNEL_IDENTITY.get(str(channel))
    value = payload.get(key) if key else None
    if not key or not isinstance(value, str) or not value:
        return None
    return key, value


async def identify_from_metadata(
    metadata: dict[str, Any] | None,
    sender_id: str,
    input_channel: str | None,
) -> tuple[list[EventType], str | None]:
    """Events for a family known from the channel, and a response name.

    The channel knows the family through a widget token (web) or the SMS sender, sealed for this
    conversation (bot/sealing.py, docs/CHANNELS.md).
    """
    identity = channel_identity(metadata, sender_id, input_channel)
    if identity is None:
        return [], None
    kind, value = identity
    try:
        if kind == "widget_token":
            result = await backend.identify_widget(value)
            return identified_events(result, sender_id), "utter_identified_channel"
        result = await backend.identify_phone(value)
        if result.get("match") == "one":
            return identified_events(result, sender_id), None
        if result.get("match") == "several":
            return [], "utter_phone_several"
    except BackendError as err:
        # forged or expired widget token, backend down: the parent is identified the usual way
        log.info("identification from channel metadata refused: %s", err.code)
    return [], None


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = [SessionStarted(), *(await help_line_events(domain))]
        metadata = tracker.get_slot("session_started_metadata")
        found, response = await identify_from_metadata(metadata, tracker.sender_id, None)
        events.extend(found)
        if response:
            dispatcher.utter_message(
                response=response,
                payer_name=next((e["value"] for e in found if e.get("name") == "payer_name"), ""),
            )
        events.append(ActionExecuted("action_listen"))
        return events


class ValidateIdentificationForm(FormValidationAction):
    def name(self) -> str:
        return "validate_identification_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot("identified"):
            return [
                SlotSet("id_client_number", "-"),
                SlotSet("id_phone", "-"),
                SlotSet("id_code", "ok"),
            ]
        # the message that started the form may already hold the client number
        opening = activating(tracker, "identification_form")
        if not opening and not new_user_turn(tracker):
            return []
        requested = tracker.get_slot("requested_slot")
        text = latest_text(tracker)
        events: list[EventType] = []

        # a widget token or the SMS sender may arrive with any message (not after a sign-out)
        found: list[EventType] = []
        if not tracker.get_slot("signed_out"):
            found, _ = await identify_from_metadata(
                (tracker.latest_message or {}).get("metadata"),
                tracker.sender_id,
                tracker.get_latest_input_channel() or "",
            )
        if found:
            return found + [
                SlotSet("id_client_number", "-"),
                SlotSet("id_phone", "-"),
                SlotSet("id_code", "ok"),
            ]

        # "je me suis trompé, c'est 100001": a new client number, never a code, never a try
        corrected = parsing.read_client_correction(text)
        phone = parsing.parse_phone(text)
        # a phone given again while the code is asked is a new phone, not a code to try
        new_phone = phone is not None and phone != tracker.get_slot("id_phone")
        asking_code = requested == "id_code" and tracker.get_slot("challenge_id")
        if asking_code and not corrected and not new_phone:
            return await self._verify(dispatcher, tracker, text)

        # the phone's digits must not be read as a client number: "100001 418-555-0101"
        rest = parsing.without_phone(text) if phone else text
        if corrected:
            client: str | None = corrected
            dispatcher.utter_message(
                response="utter_client_number_corrected", client_number=corrected
            )
        elif opening:
            client = opening_client_number(text)
        else:
            client = None if requested == "id_phone" else parsing.parse_client_number(rest)
        current_client = tracker.get_slot("id_client_number")
        current_phone = tracker.get_slot("id_phone")
        if client:
            events.append(SlotSet("id_client_number", client))
            current_client = client
        if phone:
            events.append(SlotSet("id_phone", phone))
            current_phone = phone

        if not events:
            if opening:
                return []
            talk = small_talk(dispatcher, tracker)
            if talk is not None:
                return talk
            if is_interruption(tracker):
                return []
            # facts about the registration given now are kept for later ("c'est pour Léa au camp")
            return await self._keep_facts(tracker, text) + repair_events(tracker)

        events.append(SlotSet("repair_level", 0.0))
        if current_client and current_phone:
            try:
                started = await backend.identify_start(current_client, current_phone)
            except BackendError as err:
                dispatcher.utter_message(response="utter_backend_error")
                log.warning("identify/start failed: %s", err.code)
                return [SlotSet("id_phone", None)]
            # the same answer whether or not the file matched, and no word of where the code
            # went: a stranger learns nothing about a client number from the reply
            events.append(SlotSet("challenge_id", started["challenge_id"]))
        return events

    @staticmethod
    async def _keep_facts(tracker: Tracker, text: str) -> list[EventType]:
        if not text or not any(c.isalpha() for c in text):
            return []
        kept = await facts.kept_facts(tracker.get_slot("pending_facts"), text)
        return [SlotSet("pending_facts", kept)]

    async def _verify(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str
    ) -> list[EventType]:
        code = parsing.parse_code(text)
        if code is None:
            return [] if is_interruption(tracker) else repair_events(tracker)
        try:
            result = await backend.identify_verify(tracker.get_slot("challenge_id"), code)
        except BackendError as err:
            if err.code == "code_invalid":
                dispatcher.utter_message(
                    response="utter_code_invalid", attempts_left=err.data.get("attempts_left", 0)
                )
                return [SlotSet("ask_done", True), SlotSet("repair_level", 0.0)]
            if err.code == "code_expired":
                dispatcher.utter_message(response="utter_code_expired")
                return [SlotSet("ask_done", True), SlotSet("repair_level", 0.0)]
            if err.code == "challenge_locked":
                dispatcher.utter_message(response="utter_code_locked")
                return [SlotSet("id_code", "locked"), SlotSet("challenge_id", None)]
            dispatcher.utter_message(response="utter_backend_error")
            return [SlotSet("ask_done", True)]
        dispatcher.utter_message(
            response="utter_identified",
            payer_name=(result.get("family") or {}).get("payer_name", ""),
        )
        return identified_events(result, tracker.sender_id) + [
            SlotSet("id_code", "ok"),
            SlotSet("challenge_id", None),
            SlotSet("repair_level", 0.0),
        ]


class ActionResendCode(Action):
    def name(self) -> str:
        return "action_resend_code"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        challenge = tracker.get_slot("challenge_id")
        if not challenge:
            dispatcher.utter_message(response="utter_no_code_pending")
            return []
        try:
            started = await backend.identify_resend(challenge)
        except BackendError as err:
            if err.code == "resend_limit":
                dispatcher.utter_message(response="utter_resend_limit")
            else:
                dispatcher.utter_message(response="utter_backend_error")
            return [SlotSet("ask_done", True)]
        dispatcher.utter_message(response="utter_code_resent")
        return [
            SlotSet("challenge_id", started.get("challenge_id") or challenge),
            SlotSet("ask_done", True),
        ]


class AskClientNumber(AskAction):
    slot = "id_client_number"

    async def question(self, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        # A parent who opened with a request ("inscrire Léa au camp…") hears that it was kept
        # before being asked for the file: say what happened, then what comes next.
        noted = bool(tracker.get_slot("pending_facts") or tracker.get_slot("helpdesk_question"))
        return (
            ("utter_ask_id_client_number_noted" if noted else "utter_ask_id_client_number"),
            {},
            [],
        )


class AskPhone(AskAction):
    slot = "id_phone"


class AskCode(AskAction):
    slot = "id_code"
