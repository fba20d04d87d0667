"""`python -m bot.rasa_run …` is Rasa's own command line (`rasa run …`, `rasa shell …`), with
the action server's answers checked against their JSON schema by a validator built once.

Rasa checks every answer of the action server (`RemoteAction._validate_action_result`) with
`jsonschema.validate`, which first checks the *schema itself* against the JSON Schema
meta-schema and builds a new validator, on every call. A registration turn runs several custom
actions, so without that repeated self-check the Rasa process spends less than half the CPU
time per turn (110 -> 48 ms, docs/BENCHMARKS.md, section 1). Here the schema is checked once,
the validator is kept, and every answer is still validated against the same schema: an invalid
answer raises the same `ValidationError`, with the same message, as in Rasa.
"""

from __future__ import annotations

import sys
from functools import cache
from typing import Any

from jsonschema import ValidationError, validators
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@cache
def _validator() -> Validator:
    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(_action: RemoteAction, result: dict[str, Any]) -> bool:
    """Rasa's check of an action server answer, with the validator built once."""
    error: ValidationError | None = best_match(_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from "
        f"the Action endpoint is valid. For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


def install() -> None:
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]


def main() -> None:
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
