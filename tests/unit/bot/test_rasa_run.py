"""Rasa as the project runs it (`python -m bot.rasa_run`) accepts and refuses exactly the action
server answers Rasa itself does, with the same error message."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot import rasa_run

RASA_CHECK = RemoteAction._validate_action_result

ANSWERS: list[dict[str, Any]] = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "child", "value": 3}],
     "responses": [{"response": "utter_ask_child", "child": "Léa"}]},
    {"events": [{"event": "followup", "name": "action_listen"},
                {"event": "active_loop", "name": None}], "responses": []},
    {"events": [{"event": "bot", "text": "Bonjour"}]},
    {},
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"event": "slot"}]},
    {"events": "not a list"},
    {"events": [], "responses": "not a list"},
    {"events": [{"event": "followup", "name": 3}]},
    {"responses": [7]},
]


def outcome(check: Any, answer: dict[str, Any]) -> tuple[bool, str]:
    action = RemoteAction("action_x", None)
    try:
        return bool(check(action, answer)), ""
    except ValidationError as error:
        return False, error.message


@pytest.mark.parametrize("answer", ANSWERS)
def test_the_kept_validator_judges_an_answer_as_rasa_does(answer: dict[str, Any]) -> None:
    assert outcome(rasa_run.validate_action_result, answer) == outcome(RASA_CHECK, answer)


def test_installed_the_check_refuses_a_malformed_answer_still() -> None:
    rasa_run.install()
    try:
        ok, message = outcome(RemoteAction._validate_action_result, {"events": "x"})
        assert not ok and "Failed to validate Action server response" in message
        assert outcome(RemoteAction._validate_action_result, ANSWERS[1]) == (True, "")
    finally:
        RemoteAction._validate_action_result = RASA_CHECK  # type: ignore[method-assign]
