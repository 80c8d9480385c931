"""What the counter, the desk and every other form call the citizen's national ID: the
general words and the name the country's pack gives it, in the reader's language."""

from __future__ import annotations

from django.utils import translation

from onestop.applications.views_counter import CitizenForm
from onestop.catalogue.models import Country, Service
from onestop.catalogue.packs import read_pack, resolve_pack_path
from onestop.catalogue.selectors import national_id_label
from onestop.catalogue.services import load_pack
from onestop.centres.views_desk import IdentifyForm


def test_each_country_names_its_national_id_in_each_language(kz: Country) -> None:
    load_pack(read_pack(resolve_pack_path("uz")))
    uz = Country.objects.get(code="uz")
    labels = {}
    for language in ("en", "ru", "kk", "uz"):
        with translation.override(language):
            labels[language] = (national_id_label(kz), national_id_label(uz))
    assert labels["en"] == ("National ID number (IIN)", "National ID number (PINFL)")
    assert labels["ru"] == ("Идентификационный номер (ИИН)", "Идентификационный номер (ПИНФЛ)")
    assert labels["kk"][0] == "Жеке сәйкестендіру нөмірі (ЖСН)"
    assert labels["uz"][1] == "Shaxsiy identifikatsiya raqami (JShShIR)"
    # a pack that names none: the general words
    uz.national_id_name = {}
    assert national_id_label(uz) == "National ID number"


def test_the_desk_and_the_counter_ask_for_the_number_by_the_countrys_name(
    kz: Country,
) -> None:
    standard = Service.objects.get(country=kz, code="10220001").versions.first()
    assert standard is not None
    standard.eform = {"type": "object", "properties": {}}  # no field of its own for it
    with translation.override("ru"):
        assert IdentifyForm(country=kz).fields["national_id"].label == (
            "Идентификационный номер (ИИН)")
        assert CitizenForm(standard=standard, country=kz).fields["national_id"].label == (
            "Идентификационный номер (ИИН)")
