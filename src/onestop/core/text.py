"""Localized text: a mapping from language code to text, read with sensible fallbacks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

LocalizedText = Mapping[str, str]


def localize(text: LocalizedText | None, language: str, fallbacks: Iterable[str] = ()) -> str:
    """The text in `language`, else in the first of `fallbacks` present, else any present.

    Regional variants fall back to their base language ("ru-kz" reads "ru").
    An empty or missing mapping reads as "".
    """
    if not text:
        return ""
    base = language.split("-")[0].lower()
    for candidate in (language, base, *fallbacks):
        value = text.get(candidate)
        if value:
            return value
    for value in text.values():
        if value:
            return value
    return ""


# Spellings people type interchangeably: Russian ё as е, and the several apostrophes of
# Uzbek Latin (oʻzbek, o‘zbek, o'zbek) as one.
_SEARCH_EQUIVALENTS = str.maketrans({"ё": "е", "ʻ": "'", "‘": "'", "’": "'", "ʼ": "'", "`": "'"})


def fold(text: str) -> str:
    """Case-folded, with interchangeable spellings made one, for matching on any database."""
    return text.casefold().translate(_SEARCH_EQUIVALENTS)


def search_words(query: str) -> list[str]:
    """The words of a search query, folded like the searchable text."""
    return [word for word in fold(query).split() if word]


def searchable(texts: Iterable[LocalizedText | None], *extra: str) -> str:
    """One case-folded string holding every language of every text, for word search."""
    # Languages in a fixed order: PostgreSQL's jsonb does not keep the keys' order, and
    # the same register must give the same text on every load.
    parts = [text[lang] for text in texts if text for lang in sorted(text) if text[lang]]
    parts.extend(extra)
    return " ".join(fold(" ".join(parts)).split())


def enum_titles(spec: Mapping[str, Any], language: str,
                fallbacks: Iterable[str] = ()) -> dict[str, str]:
    """The words shown for an enum's values: the e-form's `x-enum-titles` (value ->
    {language: text}) in `language`; values without one are left out."""
    titles = spec.get("x-enum-titles")
    if not isinstance(titles, Mapping):
        return {}
    found = {}
    for value, text in titles.items():
        shown = localize(text, language, tuple(fallbacks)) if isinstance(text, Mapping) else ""
        if shown:
            found[str(value)] = str(shown)
    return found
