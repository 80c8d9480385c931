"""The removal of personal data from comments (pure)."""

from __future__ import annotations

from onestop.opendata.redact import name_words, redact


def test_emails_numbers_and_known_names_are_replaced():
    names = name_words(["Aigerim Nurlanova", "Ivanov Ivan Ivanovich", "O'Neil-Smith Jo"])
    text = ("Call +7 (701) 123-45-67 or 87011234567, write to a.b+c@mail.kz; IIN "
            "900101300011, passport N1234567. AIGERIM nurlanova and ivanov helped, "
            "o'neil-smith too. Waited 45 minutes at window 12.")
    assert redact(text, names) == (
        "Call [number] or [number], write to [email]; IIN [number], passport N[number]. "
        "[name] [name] and [name] helped, [name] too. Waited 45 minutes at window 12.")


def test_words_inside_other_words_are_kept():
    names = name_words(["Ivan Li"])
    assert redact("Ivanovka village, living room", names) == "Ivanovka village, living room"
    assert redact("", names) == ""
    assert redact("no names known") == "no names known"


def test_one_letter_names_are_not_words_to_remove():
    assert name_words(["A B", "Jo"]) == frozenset({"jo"})
