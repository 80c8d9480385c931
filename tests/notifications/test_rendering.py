"""Templates per language, with the pack's fallback order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from onestop.notifications import rendering
from onestop.notifications.rendering import (
    TemplateMissingError,
    language_order,
    render,
)
from tests.notifications.conftest import CONTEXT

SHIPPED = [
    "application_submitted",
    "documents_requested",
    "application_approved",
    "application_refused",
    "result_issued",
    "rate_service",
    "proactive_offer",
]
LANGUAGES = ["kk", "ru", "uz", "en"]
FULL_CONTEXT: dict[str, Any] = {
    **CONTEXT,
    "documents": ["Свидетельство о браке", "Справка о рождении"],
    "reason": "Неполный пакет документов",
    "rate_url": "https://onestop.example/rate/KZ-2026-000123",
    "offered_service": "Единовременное пособие на рождение ребенка",
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", SHIPPED)
def test_every_shipped_template_renders_in_every_language(template: str, language: str) -> None:
    rendered = render(template=template, language=language, context=FULL_CONTEXT)
    assert rendered.language == language
    assert rendered.subject
    assert "\n" not in rendered.subject
    assert "KZ-2026-000123" in rendered.subject + rendered.body
    assert FULL_CONTEXT["service"] in rendered.body
    assert "{" not in rendered.subject + rendered.body
    assert "\n\n\n" not in rendered.body
    if template == "documents_requested":
        assert "- Справка о рождении\n" in rendered.body


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_code_for_a_new_address_renders_in_every_language(language: str) -> None:
    """Short enough for one SMS's subject: the code first, then what it is for."""
    rendered = render(template="contact_code", language=language,
                      context={"code": "042917", "minutes": 15})
    assert rendered.language == language
    assert rendered.subject.endswith("042917")
    assert "042917" in rendered.body
    assert "15" in rendered.body
    assert "{" not in rendered.subject + rendered.body


def test_links_go_out_on_the_sites_address(settings: Any) -> None:
    """A message is read on a phone or in a mailbox: the site's own paths go out on
    ONESTOP_SITE_URL; other addresses and values are left as they are."""
    context = {"number": "KZ-2026-000123", "service": "x", "status_url": "/status/KZ-1/",
               "rate_url": "/feedback/rate/KZ-1/?from=notification"}
    settings.ONESTOP_SITE_URL = ""
    unset = render(template="rate_service", language="en", context=context).body
    assert ": /feedback/rate/KZ-1/?from=notification" in unset
    settings.ONESTOP_SITE_URL = "https://onestop.example.gov"
    body = render(template="rate_service", language="en", context=context).body
    assert "https://onestop.example.gov/feedback/rate/KZ-1/?from=notification" in body
    submitted = render(template="application_submitted", language="ru", context=context).body
    assert "https://onestop.example.gov/status/KZ-1/" in submitted
    elsewhere = {**context, "status_url": "https://other.example/status/KZ-1/"}
    assert "https://other.example/status/KZ-1/" in render(
        template="application_submitted", language="en", context=elsewhere).body


def test_templates_are_plain_text_and_optional_parts_disappear() -> None:
    context = {"number": "UZ-2026-000001", "service": "O‘zbek <tili> & \"test\""}
    rendered = render(template="application_submitted", language="uz", context=context)
    assert "O‘zbek <tili> & \"test\"" in rendered.body  # nothing HTML-escaped
    assert rendered.body == (
        "«O‘zbek <tili> & \"test\"» xizmati bo‘yicha UZ-2026-000001-sonli arizangiz qabul "
        "qilindi.\n"
    )


def test_fallback_follows_the_pack_order_then_russian_then_english(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "notifications"
    folder.mkdir()
    (folder / "only_uz_en.uz.txt").write_text("Salom {{ number }}\nMatn\n")
    (folder / "only_uz_en.en.txt").write_text("Hello {{ number }}\nText\n")
    (folder / "only_en.en.txt").write_text("Hello\nText\n")
    engine = rendering.Engine(dirs=[str(tmp_path)], autoescape=False)
    monkeypatch.setattr(rendering, "_engine", lambda: engine)

    in_pack_order = render(
        template="only_uz_en", language="kk", context={"number": "7", "languages": ["uz", "en"]}
    )
    assert (in_pack_order.language, in_pack_order.subject) == ("uz", "Salom 7")
    without_order = render(template="only_uz_en", language="kk", context={"number": "7"})
    assert without_order.language == "en"  # neither kk nor ru: English last
    assert render(template="only_en", language="uz-cyrl", context={}).language == "en"
    with pytest.raises(TemplateMissingError, match="no template 'nowhere' in kk, ru, en"):
        render(template="nowhere", language="kk", context={})


def test_localized_values_are_read_in_the_language_of_the_template() -> None:
    context = {
        "number": "KZ-2026-000123",
        "service": {"kk": "Баланың тууын тіркеу", "ru": "Регистрация рождения", "en": "Birth"},
        "agency": {"ru": "ЗАГС", "en": "Registry office"},
        "languages": ["kk", "ru", "en"],
    }
    rendered = render(template="result_issued", language="kk", context=context)
    assert "«Баланың тууын тіркеу»" in rendered.body
    assert "(ЗАГС)" in rendered.body  # no Kazakh name: the next language of the pack


def test_a_refusal_shows_the_reason_or_else_the_comment() -> None:
    context = {"number": "1", "service": "S", "comment": "Нет справки"}
    rendered = render(template="application_refused", language="ru", context=context)
    assert "Основание: Нет справки" in rendered.body


def test_language_order_has_no_repeats_and_ignores_junk() -> None:
    assert language_order("ru-kz", ["kk", "ru", 5, "../x"]) == ["ru-kz", "ru", "kk", "en"]  # type: ignore[list-item]
