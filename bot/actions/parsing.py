"""What parents type, read into plain values: the names the actions import.

The readers live in bot/actions/reading/ (one module per kind of answer) and their word lists
in bot/lexicon/; this module only gathers their public names, so `parsing.parse_weeks(...)`
keeps working wherever it is called.
"""

from __future__ import annotations

from .reading.answers import (
    Answer,
    AnswerKind,
    Continuation,
    is_question,
    parse_yes_no,
    read_answer,
    read_continue,
    read_done,
    reads_both,
)
from .reading.catalog import Named, best_match, category_aliases, parse_level, site_words
from .reading.children import (
    BOTH,
    NAME_FILLERS,
    OLDEST,
    YOUNGEST,
    Child,
    parse_children,
    unknown_name,
)
from .reading.numbers import (
    PHONE,
    digits_groups,
    parse_client_number,
    parse_code,
    parse_installments,
    parse_phone,
    parse_small_number,
    read_client_correction,
    without_phone,
)
from .reading.options import OptionsChoice, parse_options, refuses_every_option
from .reading.sizes import SIZES, parse_tshirt
from .reading.text import normalize, strip_accents, words
from .reading.week_edits import WeekEdit, WeekReading, parse_weeks, read_weeks, split_options
from .reading.weeks import MONTHS, Week, WeekMention, format_numbers, month_of_week

__all__ = [
    "BOTH",
    "MONTHS",
    "NAME_FILLERS",
    "OLDEST",
    "PHONE",
    "SIZES",
    "YOUNGEST",
    "Answer",
    "AnswerKind",
    "Child",
    "Continuation",
    "Named",
    "OptionsChoice",
    "Week",
    "WeekEdit",
    "WeekMention",
    "WeekReading",
    "best_match",
    "category_aliases",
    "digits_groups",
    "format_numbers",
    "is_question",
    "month_of_week",
    "normalize",
    "parse_children",
    "parse_client_number",
    "parse_code",
    "parse_installments",
    "parse_level",
    "parse_options",
    "parse_phone",
    "parse_small_number",
    "parse_tshirt",
    "parse_weeks",
    "parse_yes_no",
    "read_answer",
    "read_client_correction",
    "read_continue",
    "read_done",
    "read_weeks",
    "reads_both",
    "refuses_every_option",
    "site_words",
    "split_options",
    "strip_accents",
    "unknown_name",
    "without_phone",
    "words",
]
