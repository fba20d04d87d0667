"""Client-number corrections, T-shirt sizes, and the lexicon files themselves."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.actions import parsing as p
from bot.actions.reading import lexicon

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    "text",
    [
        "je me suis trompé, c'est 100001",
        "je me suis trompee c 100001",
        "mauvais numéro, c'est 100001",
        "oups, le bon numéro c'est 100001",
        "Désolé c'est plutôt 100001",
        "jme suis trompé. 100001",
    ],
)
def test_a_corrected_client_number_is_not_a_code(text: str) -> None:
    assert p.read_client_correction(text) == "100001"
    assert p.parse_code(text) is None


def test_a_code_is_still_a_code() -> None:
    assert p.read_client_correction("482913") is None
    assert p.read_client_correction("le code c'est 482 913") is None
    assert p.parse_code("le code c'est 482 913") == "482913"
    assert p.read_client_correction("je me suis trompé") is None


def test_a_phone_number_in_a_correction_is_not_the_client_number() -> None:
    assert p.read_client_correction("erreur, c'est 100002 et mon cell 418 555-0101") == "100002"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mettez-lui un M", "M"),
        ("mettez lui un m svp", "M"),
        ("grandeur moyen", "M"),
        ("taille 10-12", "M"),
        ("taille 10 12 ans", "M"),
        ("elle porte du 6-8", "P"),
        ("un small", "P"),
        ("chandail grandeur 14-16", "G"),
        ("taille très petit", "TP"),
        ("extra large", "TG"),
        ("g", "G"),
        ("Léa au camp semaine 10", None),
        ("mon numéro c 100001", None),
        ("je veux le 12 juillet", None),
        ("elle fait de l'asthme", None),
        ("il fait du M", "M"),
    ],
)
def test_tshirt_in_free_text(text: str, expected: str | None) -> None:
    assert p.parse_tshirt(text) == expected


def test_lexicon_files_are_outside_rasa_training_data() -> None:
    files = sorted((ROOT / "bot" / "lexicon").glob("*.yml"))
    assert files
    assert not list((ROOT / "bot" / "data").rglob("lexicon*"))
    for file in files:
        assert isinstance(lexicon.load(file.stem), dict)


def test_an_unquoted_yes_in_a_lexicon_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="quote"):
        lexicon._check("test", yaml.safe_load("words: [oui, yes]"))


def test_no_word_list_is_left_in_the_readers() -> None:
    # a word list in code: a literal of six quoted words or more on a line
    for module in sorted((ROOT / "bot" / "actions" / "reading").glob("*.py")):
        source = module.read_text(encoding="utf-8")
        for line in source.splitlines():
            assert line.count('", "') < 5, f"{module.name}: {line.strip()}"
