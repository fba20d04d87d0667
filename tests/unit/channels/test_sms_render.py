"""SMS rendering: alphabet, cost in parts, plain typography, numbered choices, links, length."""

from __future__ import annotations

import pytest

from bot.channels import sms_render as r


@pytest.mark.parametrize("char", list("éèàùÉÇ@£$_") + ["\n"])
def test_characters_inside_gsm7(char: str) -> None:
    assert r.is_gsm7(f"Inscription {char}")


@pytest.mark.parametrize(
    "char", list("êâîôûçëïœ") + ["\u2019", "\u201c", "\u00a0", "\u202f", "🙂", "È", "À"]
)
def test_characters_outside_gsm7_switch_to_ucs2(char: str) -> None:
    message = f"Inscription {char}"
    assert not r.is_gsm7(message)
    assert r.encoding(message) == "UCS-2"


def test_segment_limits_gsm7() -> None:
    assert r.segments("a" * 160) == 1
    assert r.segments("a" * 161) == 2
    assert r.segments("a" * 306) == 2
    assert r.segments("a" * 307) == 3
    assert r.segments("a" * 459) == 3
    assert r.segments("a" * 460) == 4


def test_segment_limits_ucs2() -> None:
    assert r.segments("ê" * 70) == 1
    assert r.segments("ê" * 71) == 2
    assert r.segments("ê" * 134) == 2
    assert r.segments("ê" * 135) == 3


def test_extension_characters_count_twice() -> None:
    assert r.units("€") == 2
    assert r.segments("€" * 80) == 1
    assert r.segments("€" * 81) == 2
    assert r.segments("a" * 159 + "[") == 2


def test_one_character_makes_the_whole_message_ucs2() -> None:
    message = "a" * 100
    assert r.segments(message) == 1
    assert r.segments(message + "ç") == 2


def test_emoji_counts_two_utf16_units() -> None:
    assert r.units("🙂") == 2


def test_normalise_keeps_french_letters_and_removes_costly_typography() -> None:
    raw = "Total\u00a0: 1\u202f234,50\u00a0$ \u2014 c\u2019est «\u00a0noté\u00a0»\u2026 à bientôt"
    plain = r.normalise(raw)
    assert plain == 'Total : 1 234,50 $ - c\'est "noté"... à bientôt'
    # Only the "ô" of "bientôt" is left outside GSM-7: normalisation does not remove words' accents.
    assert r.normalise("Léa, été, très, où") == "Léa, été, très, où"


def test_babel_money_becomes_gsm7() -> None:
    from babel.numbers import format_currency

    amount = format_currency(95, "CAD", locale="fr_CA")
    assert not r.is_gsm7(amount)
    assert r.render(f"Total : {amount}") == ["Total : 95,00 $"]
    assert r.is_gsm7(r.render(f"Total : {amount}")[0])


def test_buttons_become_numbered_lines_with_the_catalog_hint() -> None:
    [body] = r.render(
        "Pour quel enfant?",
        [
            {"title": "Léa", "payload": '/choisir_enfant{"child_id": 3}'},
            {"title": "Thomas", "payload": '/choisir_enfant{"child_id": 4}'},
            {"title": "Les deux", "payload": '/choisir_enfant{"child_id": "all"}'},
        ],
    )
    assert body == "Pour quel enfant?\n1. Léa\n2. Thomas\n3. Les deux\nRépondez 1, 2 ou 3."
    assert r.is_gsm7(body)


def test_links_stand_alone_on_their_line_without_the_final_period() -> None:
    [body] = r.render("Voici le lien de paiement : http://localhost:8000/p/Ab3xY7. Merci!")
    assert body.split("\n") == [
        "Voici le lien de paiement :",
        "http://localhost:8000/p/Ab3xY7",
        "Merci!",
    ]


def test_a_short_reply_stays_one_message() -> None:
    assert r.render("C'est noté.") == ["C'est noté."]


def test_accents_dropped_only_when_they_cost_a_part() -> None:
    short = "Voulez-vous le chandail? Ça coûte 0 $."
    assert r.render(short) == [short]  # fits one UCS-2 part anyway: keep "coûte"
    long_text = "Le service de garde coûte 40,00 $ par semaine. " * 2 + "Le voulez-vous?"
    [body] = r.render(long_text)
    assert "coute" in body and r.is_gsm7(body)
    assert r.segments(body) == 1


def test_long_replies_split_at_paragraphs_each_within_three_parts() -> None:
    paragraph = "Semaine {n} : Parc des Érables, 7-8 ans, du 28 juin au 2 juillet, 95,00 $. " * 3
    reply = "\n\n".join(paragraph.format(n=n).strip() for n in range(1, 9))
    bodies = r.render(reply)
    assert len(bodies) > 1
    assert all(r.segments(b) <= r.MAX_SEGMENTS for b in bodies)
    # Nothing lost: every week is still there, in order.
    joined = "\n\n".join(bodies)
    assert [f"Semaine {n} " in joined for n in range(1, 9)] == [True] * 8


def test_a_long_paragraph_cut_at_lines_keeps_single_line_breaks() -> None:
    # The summary before the terms: one paragraph of lines, then the question and its choices.
    # Cut between lines, the lines put back in one text must not gain blank lines between them.
    lines = [
        f"{n}. Léa - Camp de jour, Parc des Érables, 9-12 ans, semaine {n} : 95,00 $"
        for n in range(1, 4)
    ]
    question = (
        "Total : 285,00 $, payé en 1 versement de 285,00 $ aujourd'hui. En acceptant "
        "les modalités de paiement, vous autorisez ce paiement ; les places restent "
        "réservées jusqu'à l'échéance du lien de paiement. Acceptez-vous les modalités ?"
    )
    bodies = r.render(
        "\n".join(["Récapitulatif :", *lines, question]), [{"title": "Oui"}, {"title": "Non"}]
    )
    assert len(bodies) > 1 and all(r.segments(b) <= r.MAX_SEGMENTS for b in bodies)
    assert all("\n\n" not in b for b in bodies), bodies
    # The question travels with its choices and the hint, in the last text.
    assert bodies[-1] == question + "\n1. Oui\n2. Non\nRépondez 1 ou 2.", bodies
    assert "\n".join(bodies) == "\n".join(["Récapitulatif :", *lines, bodies[-1]])


def test_choices_of_a_long_reply_never_leave_their_question() -> None:
    # Packed greedily, "Répondez 1 ou 2." alone (or the choices alone) could end up in a text
    # of its own; whatever the lengths, the last text starts with the question.
    for filler in range(60, 160, 7):
        lines = [
            "Voici le détail :",
            "x" * filler,
            "y" * filler,
            "z" * filler,
            "Acceptez-vous les modalités de paiement ? " + "w" * 200,
        ]
        bodies = r.render("\n".join(lines), [{"title": "Oui"}, {"title": "Non"}])
        assert all(r.segments(b) <= r.MAX_SEGMENTS for b in bodies), bodies
        assert "Acceptez-vous" in bodies[-1] and bodies[-1].endswith("Répondez 1 ou 2."), bodies


def test_a_single_huge_sentence_is_still_cut_under_the_limit() -> None:
    bodies = r.render("mot " * 400)
    assert all(r.segments(b) <= r.MAX_SEGMENTS for b in bodies)
    assert sum(b.count("mot") for b in bodies) == 400
