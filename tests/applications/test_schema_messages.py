"""E-form problems in the reader's language, naming the schema's limit, never the value."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.utils import translation

from onestop.accounts.models import User
from onestop.applications.services import _form_problems
from onestop.catalogue.models import Country

SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 2, "maxLength": 5},
        "iin": {"type": "string", "pattern": "^[0-9]{12}$"},
        "born": {"type": "string", "format": "date"},
        "email": {"type": "string", "format": "email"},
        "sex": {"enum": ["male", "female"]},
        "region": {"enum": [None, *range(1, 13)]},
        "consent": {"const": True},
        "children": {"type": "integer", "minimum": 0, "maximum": 20, "multipleOf": 1},
        "area": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1000},
        "phones": {"type": "array", "minItems": 1, "maxItems": 2, "uniqueItems": True},
        "flag": {"type": "boolean"},
        "odd": {"not": {"type": "string"}},
    },
}
BAD = {
    "name": "Aigerim-Nurlanovna", "iin": "12ab", "born": "2020-02-30", "email": "nobody",
    "sex": "other", "consent": False, "children": 21, "area": 0, "phones": ["1", "1", "2"],
    "flag": "yes", "odd": "text", "region": 0,
}
ENGLISH = {
    "form.name": ["must have at most 5 characters"],
    "form.iin": ["is not in the expected format"],
    "form.born": ["must be a date (YYYY-MM-DD)"],
    "form.email": ["must be an email address"],
    "form.sex": ["must be one of: male, female"],
    "form.consent": ["must be true"],
    "form.children": ["must be at most 20"],
    "form.area": ["must be greater than 0"],
    "form.phones": ["must have at most 2 values", "must not repeat a value"],
    "form.flag": ["must be true or false"],
    "form.odd": ["is not valid for this field"],
    "form.region": ["must be one of: null, 1, 2, 3, 4, 5, 6, 7, 8, 9, …"],
}


def test_every_constraint_has_its_own_message_without_the_value() -> None:
    with translation.override("en"):
        problems = _form_problems(SCHEMA, BAD)
    assert problems == ENGLISH
    given = [str(v) for v in BAD.values()]
    assert not any(value in message for messages in problems.values()
                   for message in messages for value in given if len(value) > 3)


def test_lower_limits_and_types() -> None:
    with translation.override("en"):
        problems = _form_problems(SCHEMA, {"name": "A", "children": -1, "area": 1000,
                                           "phones": [], "iin": 5, "sex": None})
    assert problems == {
        "form.name": ["must have at least 2 characters"],
        "form.children": ["must be at least 0"],
        "form.area": ["must be less than 1000"],
        "form.phones": ["must have at least 1 value"],
        "form.iin": ["must be text"],
        "form.sex": ["must be one of: male, female"],
    }


@pytest.mark.parametrize(("language", "expected"), [
    ("ru", {"form.name": ["должно содержать не больше 5 символов"],
            "form.iin": ["не соответствует ожидаемому формату"],
            "form.phones": ["должно содержать не больше 2 значений",
                            "значения не должны повторяться"]}),
    ("kk", {"form.name": ["5 таңбадан аспауы керек"],
            "form.iin": ["күтілген пішімде емес"],
            "form.phones": ["2 мәннен аспауы керек", "мәндер қайталанбауы керек"]}),
    ("uz", {"form.name": ["5 ta belgidan oshmasligi kerak"],
            "form.iin": ["kutilgan formatda emas"],
            "form.phones": ["2 ta qiymatdan oshmasligi kerak",
                            "qiymatlar takrorlanmasligi kerak"]}),
])
def test_messages_are_translated(language: str, expected: dict[str, list[str]]) -> None:
    with translation.override(language):
        problems = _form_problems(SCHEMA, BAD)
    assert {k: problems[k] for k in expected} == expected
    # every message of every constraint is translated: none is left as the English one
    english = {m for messages in ENGLISH.values() for m in messages} - {"must be true"}
    assert not english & {m for messages in problems.values() for m in messages}


@pytest.mark.django_db
def test_the_json_api_explains_in_english_whatever_the_language_asked_for(
    settings, mini_country: Country, make_user: Callable[..., User],  # type: ignore[no-untyped-def]
    api_client: Callable[[User | None], Client],
) -> None:
    settings.ONESTOP_COUNTRY = "zz"
    me = api_client(make_user("citizen", national_id="900101300011"))
    answer = me.post("/api/v1/applications", {"service": "01010001", "form": {"child_name": 7}},
                     content_type="application/json", HTTP_ACCEPT_LANGUAGE="ru")
    assert answer.status_code == 422
    assert answer.json()["detail"] == "form.child_name: must be text"
