"""Removing personal data from free text (the comments of ratings) before it is published.

Pure: no Django. The method (docs/opendata.md):
1. e-mail addresses -> "[email]";
2. every run of 6 or more digits, allowing spaces, dots, dashes, slashes and brackets
   between them and a leading "+" (phone numbers, national identification numbers,
   passport and account numbers, application numbers) -> "[number]";
3. every word that is the given or family name of a person known to the system (accounts
   and applicants, compared case-insensitively, whole words only, names of two letters or
   more) -> "[name]".
Step 3 also removes ordinary words that happen to be someone's name: the comment loses a
word rather than keeping a name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# a "+" or a digit, then digits with separators, ending in a digit: at least 6 digits in all
NUMBER = re.compile(r"\+?\(?\d(?:[\s().\-/]{0,3}\d){5,}")
WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*", re.UNICODE)
MIN_NAME_LENGTH = 2


def name_words(names: Iterable[str]) -> frozenset[str]:
    """The words of people's names (given, family, patronymic), case-folded."""
    words: set[str] = set()
    for name in names:
        for word in WORD.findall(name or ""):
            if len(word) >= MIN_NAME_LENGTH:
                words.add(word.casefold())
    return frozenset(words)


def redact(text: str, names: frozenset[str] = frozenset()) -> str:
    """`text` without e-mail addresses, long numbers and the words of `names`."""
    if not text:
        return ""
    out = EMAIL.sub("[email]", text)
    out = NUMBER.sub("[number]", out)
    if names:
        out = WORD.sub(lambda m: "[name]" if m.group(0).casefold() in names else m.group(0), out)
    return out
