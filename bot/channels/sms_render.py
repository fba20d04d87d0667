"""Turning the bot's replies into good text messages (pure functions, no I/O).

What matters on SMS:
- cost: a message in the GSM-7 alphabet fits 160 characters (153 per part once split); a single
  character outside it (ê, ç, œ, a curly apostrophe, an emoji, the no-break space babel puts in
  "95,00 $") switches the whole message to UCS-2: 70 characters, 67 per part;
- no buttons: choices become lines keyed by a number or a letter (sms_choices);
- links alone on their line, so that phones make them tappable and nothing sticks to them;
- at most 3 parts per message (the voice guide), split at paragraph or sentence boundaries when
  the bot says more than that.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from bot.channels import sms_choices

MAX_SEGMENTS = 3

# GSM 03.38 default alphabet (basic table) and the characters of its extension table, which are
# sent as an escape plus one septet and therefore count twice.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

# Typography that word processors and babel produce, and plain equivalents that stay in GSM-7.
_PLAIN = str.maketrans(
    {
        "\u00a0": " ",  # no-break space (babel: "95,00 $")
        "\u202f": " ",  # narrow no-break space (babel: "1 234,50 $")
        "\u2007": " ",
        "\u2009": " ",
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
    }
)
_GUILLEMETS = re.compile(r"«\s*|\s*»")

URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_URL_TRAILING = ".,;:!?)"
_SENTENCE_END = re.compile(r"(?<=[.!?:])\s+")


# --------------------------------------------------------------------------- alphabet and cost


def is_gsm7(text: str) -> bool:
    """True when every character is in the GSM-7 basic set or its extension table."""
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def encoding(text: str) -> str:
    return "GSM-7" if is_gsm7(text) else "UCS-2"


def units(text: str) -> int:
    """Length in the encoding's units: septets (extension characters count 2) or UTF-16 units."""
    if is_gsm7(text):
        return sum(2 if c in GSM7_EXTENSION else 1 for c in text)
    return len(text.encode("utf-16-le")) // 2


def segments(text: str) -> int:
    """How many SMS parts `text` costs (160/153 in GSM-7, 70/67 in UCS-2)."""
    if not text:
        return 1
    single, multi = (160, 153) if is_gsm7(text) else (70, 67)
    n = units(text)
    return 1 if n <= single else -(-n // multi)


# --------------------------------------------------------------------------- normalisation


def normalise(text: str) -> str:
    """Plain spaces, straight quotes, "..." for "…"; é è à ù and other GSM-7 letters kept."""
    text = _GUILLEMETS.sub('"', text)
    text = text.translate(_PLAIN)
    text = text.replace("\r\n", "\n")
    # Trailing spaces at line ends cost a character each and show nothing.
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def unaccent(text: str) -> str:
    """Accented letters outside GSM-7 without their accent (ê→e, ç→c, œ→oe); GSM-7 ones kept."""
    out: list[str] = []
    for c in text:
        if c in GSM7_BASIC or c in GSM7_EXTENSION:
            out.append(c)
        elif c == "œ":
            out.append("oe")
        elif c == "Œ":
            out.append("OE")
        else:
            base = unicodedata.normalize("NFD", c)[0]
            out.append(base if base in GSM7_BASIC else c)
    return "".join(out)


def links_on_their_own_line(text: str) -> str:
    """Every URL alone on its line; punctuation that ended the sentence after it is dropped."""
    lines_out: list[str] = []
    for line in text.split("\n"):
        if not URL.search(line):
            lines_out.append(line)
            continue
        pos = 0
        for match in URL.finditer(line):
            url = match.group(0)
            stripped = url.rstrip(_URL_TRAILING)
            before = line[pos : match.start()].strip()
            if before:
                lines_out.append(before)
            lines_out.append(stripped)
            pos = match.start() + len(stripped)
        # What followed the last link, without the punctuation that closed its sentence.
        after = line[pos:].lstrip(_URL_TRAILING + " ").strip()
        if after:
            lines_out.append(after)
    return "\n".join(lines_out)


# --------------------------------------------------------------------------- whole replies


def _fit(text: str) -> str:
    """Drop non-GSM accents when (and only when) that makes the message cost fewer parts."""
    if is_gsm7(text):
        return text
    plain = unaccent(text)
    return plain if segments(plain) < segments(text) else text


def _chunks(text: str) -> Iterable[tuple[str, str]]:
    """(separator, piece): paragraphs, then lines, then sentences, the pieces a long reply may be
    cut between, each with the separator it had in the text (a blank line between paragraphs, a
    line break between lines, a space between sentences), so that pieces put back together in
    one message read as they were written."""
    for p, paragraph in enumerate(text.split("\n\n")):
        sep = "\n\n" if p else ""
        if segments(_fit(paragraph)) <= MAX_SEGMENTS:
            yield sep, paragraph
            continue
        for n, line in enumerate(paragraph.split("\n")):
            line_sep = "\n" if n else sep
            if segments(_fit(line)) <= MAX_SEGMENTS:
                yield line_sep, line
                continue
            for s, sentence in enumerate(_SENTENCE_END.split(line)):
                for w, piece in enumerate(_hard_cut(sentence)):
                    yield (" " if s or w else line_sep), piece


def _hard_cut(sentence: str) -> Iterable[str]:
    """Last resort for one huge sentence: cut between words under the limit."""
    words = sentence.split(" ")
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if current and segments(_fit(candidate)) > MAX_SEGMENTS:
            yield current
            current = word
        else:
            current = candidate
    if current:
        yield current


def split_for_sms(text: str) -> list[str]:
    """One message when it fits in 3 parts; otherwise several, each fitting, cut at boundaries."""
    text = _fit(text)
    if segments(text) <= MAX_SEGMENTS:
        return [text]
    messages: list[str] = []
    current = ""
    for separator, chunk in _chunks(text):
        joiner = separator if current else ""
        candidate = _fit(current + joiner + chunk)
        if current and segments(candidate) > MAX_SEGMENTS:
            messages.append(_fit(current))
            current = chunk
        else:
            current = current + joiner + chunk
    if current:
        messages.append(_fit(current))
    return messages


def with_choices(text: str, choices: sms_choices.Menu | None) -> str:
    if choices is None:
        return text
    head = [text.rstrip()] if text.strip() else []
    return "\n".join([*head, choices.block()])


def render(
    text: str, buttons: Sequence[dict[str, Any]] | None = None, question: str | None = None
) -> list[str]:
    """The SMS bodies for one bot reply (usually one), each at most 3 parts; `question` names
    the response the buttons belong to (it decides how they are keyed, sms_choices).

    When a reply with choices is too long for one text, the question (the reply's last line)
    stays with its numbered choices and the hint in the last text: a parent never gets
    "Répondez 1 ou 2." alone, nor choices without the question they answer."""
    plain = [{**b, "title": normalise(str(b.get("title") or ""))} for b in buttons or []]
    choices = sms_choices.menu(plain, question)
    head = links_on_their_own_line(normalise(text or ""))
    body = links_on_their_own_line(with_choices(head, choices))
    if choices is None or segments(_fit(body)) <= MAX_SEGMENTS:
        return [m for m in split_for_sms(body) if m.strip()]
    block = links_on_their_own_line(with_choices("", choices))
    before, _, question = head.rpartition("\n")
    last = f"{question}\n{block}" if question.strip() else block
    if segments(_fit(last)) > MAX_SEGMENTS:  # a huge question: only the choices stay together
        before, last = head, block
    messages = [m for m in split_for_sms(before.rstrip()) if m.strip()]
    if messages and segments(_fit(f"{messages[-1]}\n{last}")) <= MAX_SEGMENTS:
        last = f"{messages.pop()}\n{last}"
    return [*messages, _fit(last)]
