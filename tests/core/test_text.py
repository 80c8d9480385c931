from onestop.core.text import fold, localize, search_words, searchable


def test_localize_falls_back_along_the_pack_languages() -> None:
    text = {"kk": "Тууды тіркеу", "ru": "Регистрация рождения"}
    assert localize(text, "ru") == "Регистрация рождения"
    assert localize(text, "ru-kz") == "Регистрация рождения"
    assert localize(text, "uz", ["kk", "ru"]) == "Тууды тіркеу"
    assert localize(text, "en", ["en", "ru"]) == "Регистрация рождения"
    assert localize({"en": ""}, "en") == ""
    assert localize(None, "en") == ""


def test_search_folds_case_yo_and_uzbek_apostrophes() -> None:
    haystack = searchable([{"ru": "Регистрация рождения ребёнка", "uz": "Oʻzbekiston"}], "01")
    assert haystack == "регистрация рождения ребенка o'zbekiston 01"  # ru before uz
    for query in ("РЕБЕНКА", "ребёнка", "o‘zbekiston", "O'ZBEKISTON"):
        assert all(word in haystack for word in search_words(query)), query
    assert fold("Ёлка") == "елка"
