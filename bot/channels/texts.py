"""The sentences of the channels (SMS keyword replies), from the gettext domain "channels".

Message ids are short keys ("sms.stop"); the sentences themselves live only in
`locales/<locale>/LC_MESSAGES/channels.po`. A compiled `channels.mo` is used when it is newer
than the `.po`; otherwise the `.po` is compiled in memory, so a fresh clone needs no build step.
"""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

DOMAIN = "channels"
DEFAULT_LOCALE = "fr_CA"
LOCALES_DIR = Path(__file__).resolve().parents[2] / "locales"


@lru_cache(maxsize=8)
def translations(locale: str = DEFAULT_LOCALE) -> gettext.NullTranslations:
    folder = LOCALES_DIR / locale / "LC_MESSAGES"
    mo, po = folder / f"{DOMAIN}.mo", folder / f"{DOMAIN}.po"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fp:
            return Translations(fp, domain=DOMAIN)
    if po.exists():
        with po.open("rb") as fp:
            catalog = read_po(fp, locale=locale, domain=DOMAIN)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        return Translations(buffer, domain=DOMAIN)
    raise FileNotFoundError(f"no {DOMAIN} catalog for {locale} under {LOCALES_DIR}")


def text(key: str, locale: str = DEFAULT_LOCALE, **values: Any) -> str:
    """The sentence for `key`, with `%(name)s` placeholders filled from `values`."""
    sentence = translations(locale).gettext(key)
    if sentence == key:
        raise KeyError(f"{key!r} is missing from the {DOMAIN} catalog ({locale})")
    return sentence % values if values else sentence
