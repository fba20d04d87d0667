"""What the tracker store must mask (bot/privacy/sensitive.yml), as parents really write it,
and the ordinary registration messages it must keep word for word."""

from __future__ import annotations

import pytest

from bot.privacy.sensitive import fold, mentions_sensitive, sensitive_list

SENSITIVE = [
    "Léa est allergique aux arachides",
    "elle a une allergie sévère aux noix",
    "mon gars a des alergies",  # SMS spelling
    "Thomas fait de l'asthme, il a sa pompe",
    "elle a le TDAH",
    "il a un TDA sans hyperactivité",
    "Emma prend du Ritalin le matin",
    "il prend du concerta",
    "elle prend des médicaments à midi",
    "faut lui donner ses médocs",
    "il a son ÉpiPen dans son sac",
    "Epi-Pen dans la boîte à lunch",
    "mon fils est autiste",
    "elle a un trouble du spectre de l'autisme (TSA)",
    "elle est diabétique, type 1",
    "il a besoin de son insuline",
    "il fait de l'épilepsie",
    "Noah a un diagnostic de dyslexie",
    "ma fille est dyspraxique",
    "il a un trouble de l'attention",
    "c'est un enfant avec des besoins particuliers",
    "elle voit une psychologue le mardi",
    "il est suivi en orthophonie",
    "elle est intolérante au lactose",
    "il est coeliaque, pas de gluten",
    "elle est malade depuis hier",
    "il sort de l'hôpital",
    "il a eu une commotion cérébrale au soccer",
    "elle a un plâtre au bras",
    "mon NAS c'est 123 456 789",
    "mon numéro d'assurance sociale est 123-456-789",
    "voici le N.A.S. du parent payeur",
    "123456789",
    "no d'assurance sociale pour le relevé 24",
    "ALLERGIQUE AUX PINOTTES",
    "il a de l'anxiété",
    "elle fait de l'eczéma",
    "il a un handicap",
    "sa fiche santé n'est pas à jour",
    "le médecin dit qu'il peut nager",
]

ORDINARY = [
    "Bonjour, je voudrais inscrire Léa au camp de jour au parc de la Rivière, semaines 2 à 4",
    "avec service de garde",
    "transport à vélo aussi",
    "les deux enfants svp",
    "ma plus vieille",
    "100001",
    "418 555-0101",
    "100001 418-555-0101",
    "natation niveau 3 le samedi",
    "inscrire Thomas au soccer",
    "taille M",
    "en deux versements",
    "oui j'accepte",
    "semaine du 12 juillet",
    "c'est pas de trouble, merci",
    "finalement pas de service de garde",
    "je veux voir mon panier",
    "Yasmine, parc des Érables, 7-8 ans",
    "renvoyer le code",
    "ce n'est pas moi",
]


@pytest.mark.parametrize("text", SENSITIVE)
def test_a_health_or_nas_mention_is_caught(text: str) -> None:
    assert mentions_sensitive(text), text


@pytest.mark.parametrize("text", ORDINARY)
def test_an_ordinary_registration_message_is_kept(text: str) -> None:
    assert not mentions_sensitive(text), text


def test_the_list_is_data_and_marks_the_code_question() -> None:
    listed = sensitive_list()
    assert "id_code" in listed.slots
    assert len(listed.prefixes) + len(listed.words) + len(listed.phrases) >= 60
    assert len(SENSITIVE) >= 30 and len(ORDINARY) >= 10


def test_folding_ignores_case_accents_and_punctuation() -> None:
    assert fold("Épi-Pen, l'ÉTÉ") == "epi pen l ete"
    assert fold("cœliaque") == "coeliaque"


def _variants(text: str) -> list[str]:
    """How the same words arrive: as typed, shouted, without accents, texto style."""
    import unicodedata

    bare = "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    )
    return [text, text.upper(), text.lower(), bare, bare.lower().replace("'", " "), f"{text}!!"]


def test_generated_mixes_mask_every_sensitive_one_and_no_ordinary_one() -> None:
    """Each sensitive phrasing inside ordinary registration talk, in every spelling variant, is
    caught; ordinary messages joined two by two, in the same variants, never are."""
    import random

    rng = random.Random(2027)
    sensitive, ordinary = 0, 0
    for text in SENSITIVE:
        for variant in _variants(text):
            before, after = rng.choice(ORDINARY), rng.choice(ORDINARY)
            for mixed in (variant, f"{before}, {variant}", f"{variant}. {after}"):
                assert mentions_sensitive(mixed), mixed
                sensitive += 1
    for first in ORDINARY:
        for second in ORDINARY:
            for variant in _variants(f"{first}, {second}"):
                assert not mentions_sensitive(variant), variant
                ordinary += 1
    assert sensitive == len(SENSITIVE) * 18 and ordinary == len(ORDINARY) ** 2 * 6
