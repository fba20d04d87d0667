"""Yes, no, questions, "les deux" and "ok / merci" as parents answer the bot."""

from __future__ import annotations

import pytest

from bot.actions import parsing as p

YES = [
    "pas de problème",
    "pas de trouble",
    "pas de probleme",
    "ben oui",
    "bin oui",
    "certain",
    "c'est beau",
    "cest beau",
    "parfait",
    "go",
    "ok go",
    "envoye",
    "envoie",
    "Envoye donc!",
    "oui oui",
    "ok",
    "OK",
    "d'accord",
    "daccord",
    "yep",
    "absolument",
    "vas-y",
    "vas y",
    "ouin",
    "ouais",
    "mets-en",
    "bien sûr",
    "ça marche",
    "ca marche",
    "pourquoi pas",
    "pourquoi pas?",
    "Oui j'accepte",
    "👍",
    "c'est correct",
    "let's go",
    "ok merci",
    "tout à fait",
]
NO = [
    "pantoute",
    "non merci",
    "laisse faire",
    "pas vraiment",
    "nope",
    "non",
    "Non.",
    "NON",
    "pas tout de suite",
    "pas",
    "nan",
    "ben non",
    "laisse tomber",
    "pas maintenant",
    "non non",
    "je pense pas",
    "pas pour l'instant",
    "👎",
    "c'est pas correct",
    "ça va aller",
    "aucune",
    "Aucune option",
]
QUESTIONS = [
    "y a tu de la place à l'autre parc?",
    "y a tu de la place a lautre parc",
    "y'a-tu de la place ailleurs",
    "c'est combien?",
    "c combien",
    "je peux payer en 2 fois?",
    "pourquoi?",
    "pourquoi",
    "est-ce que je peux choisir le parc",
    "est ce que ça inclut le dîner",
    "c'est-tu cher?",
    "ca coute tu cher",
    "ok mais c'est quoi le prix?",
    "oui, mais y a tu un rabais pour le 2e enfant",
    "combien de places il reste",
    "quand est-ce que ça commence",
    "peux-tu me rappeler le prix",
    "reste-t-il de la place",
]


@pytest.mark.parametrize("text", YES)
def test_yes(text: str) -> None:
    assert p.read_answer(text).kind is p.AnswerKind.YES
    assert p.parse_yes_no(text) is True


@pytest.mark.parametrize("text", NO)
def test_no(text: str) -> None:
    assert p.read_answer(text).kind is p.AnswerKind.NO
    assert p.parse_yes_no(text) is False


@pytest.mark.parametrize("text", QUESTIONS)
def test_a_question_is_never_a_yes(text: str) -> None:
    assert p.read_answer(text).kind is p.AnswerKind.QUESTION
    assert p.parse_yes_no(text) is None
    assert p.is_question(text)


@pytest.mark.parametrize(
    "text",
    ["oui", "non merci", "pourquoi pas ?", "ok", "pis là ?", "c'est quoi la suite", "Léa", "2"],
)
def test_answers_that_are_not_questions(text: str) -> None:
    assert not p.is_question(text)


@pytest.mark.parametrize(
    "text", ["peut-être", "pas certain", "je sais pas", "chais pas", "semaine 3", "hmm", "bof", ""]
)
def test_neither_yes_nor_no(text: str) -> None:
    assert p.read_answer(text).kind is p.AnswerKind.UNKNOWN


def test_pas_de_probleme_is_yes_while_pas_alone_is_no() -> None:
    assert p.read_answer("pas de problème").yes
    assert p.read_answer("pas de trouble pantoute").yes
    assert p.read_answer("pas").no
    assert p.read_answer("pas ça").no


@pytest.mark.parametrize(
    ("text", "kind", "rest"),
    [
        ("non, plutôt Thomas", p.AnswerKind.NO, "plutot thomas"),
        ("Non plutot la semaine 4", p.AnswerKind.NO, "plutot la semaine 4"),
        ("oui, semaines 2 et 3", p.AnswerKind.YES, "semaines 2 et 3"),
        ("ben oui avec le service de garde", p.AnswerKind.YES, "avec le service de garde"),
        ("non merci", p.AnswerKind.NO, ""),
        ("ok", p.AnswerKind.YES, ""),
    ],
)
def test_what_follows_the_yes_or_the_no_is_kept(text: str, kind: p.AnswerKind, rest: str) -> None:
    answer = p.read_answer(text)
    assert answer.kind is kind
    assert answer.rest == rest


@pytest.mark.parametrize(
    "text", ["les deux", "Les 2", "tous les deux", "toutes les deux svp", "oui les deux"]
)
def test_both(text: str) -> None:
    assert p.read_answer(text).kind is p.AnswerKind.BOTH
    assert p.reads_both(text)


def test_one_is_not_both() -> None:
    assert not p.reads_both("le vélo")
    assert p.read_answer("la deuxième").kind is not p.AnswerKind.BOTH


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("merci", p.Continuation.THANKS),
        ("Merci beaucoup!", p.Continuation.THANKS),
        ("ok merci", p.Continuation.THANKS),
        ("ok", p.Continuation.CONTINUE),
        ("pis là ?", p.Continuation.CONTINUE),
        ("ok, pis là?", p.Continuation.CONTINUE),
        ("c'est quoi la suite", p.Continuation.CONTINUE),
        ("c quoi la suite?", p.Continuation.CONTINUE),
        ("et après", p.Continuation.CONTINUE),
        ("et apres?", p.Continuation.CONTINUE),
        ("continuer", p.Continuation.CONTINUE),
        ("on continue", p.Continuation.CONTINUE),
        ("on continue svp", p.Continuation.CONTINUE),
        ("ensuite?", p.Continuation.CONTINUE),
    ],
)
def test_moving_on(text: str, expected: p.Continuation) -> None:
    assert p.read_continue(text) is expected


@pytest.mark.parametrize(
    "text",
    ["merci, je voudrais aussi inscrire Thomas", "oui", "non", "continuer avec Thomas", "Léa", ""],
)
def test_more_than_moving_on(text: str) -> None:
    assert p.read_continue(text) is None


def test_a_number_inside_a_question_is_not_a_choice() -> None:
    # the caller asks is_question before reading a menu number
    assert p.is_question("je peux payer en 2 fois?")
    assert p.is_question("y a tu une place dans le groupe 2")
    assert not p.is_question("2")
    assert not p.is_question("le 2 svp")
