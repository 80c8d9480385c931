"""Forms of the citizen's portal: a standard's e-form (JSON Schema) as a Django form, and
the forms of the actions a citizen takes on an application.

`ApplicationForm` turns each property of the e-form into a field (labels from `x-title`
in the page's language), adds an upload per document the applicant brings, and turns
what was typed back into the JSON `form_data` that `services.submit` checks against the
same schema. The schema stays the authority: this form only catches mistakes early, in
the citizen's language, and `services.submit` reports whatever it lets through.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from onestop.applications.services import FORM_DOCUMENT, UploadedDocument
from onestop.catalogue.models import ServiceStandard
from onestop.catalogue.packs import APPLICANT_PHONE, applicant_id_properties
from onestop.core.text import enum_titles, localize

PREFIX = "eform"
DOCUMENT = "document-"  # field name prefix of an upload: "document-id_card"
DIGITS = re.compile(r"^\^\[0-9\]\{\d+(,\d*)?\}\$$")  # a pattern of digits only: "^[0-9]{12}$"
RADIO_UP_TO = 5  # an enum of this many choices or fewer shows as radio buttons
ACCEPTED_FILES = "application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png"
# The first bytes of each file type a service accepts: what a file is, whatever its name.
SIGNATURES = {b"%PDF-": "application/pdf", b"\xff\xd8\xff": "image/jpeg",
              b"\x89PNG\r\n\x1a\n": "image/png"}


@dataclass(frozen=True)
class Codec:
    """How one field's value travels: cleaned value -> JSON, and JSON -> initial value."""

    to_json: Callable[[Any], Any]
    to_initial: Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


PLAIN = Codec(_same, _same)


class LinesField(forms.CharField):
    """A JSON array of free values, typed one per line; each line is checked by `item`."""

    widget = forms.Textarea(attrs={"rows": 3})

    def __init__(self, *, item: forms.Field, min_items: int, max_items: int | None,
                 unique: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.item, self.min_items, self.max_items, self.unique = item, min_items, max_items, unique

    def clean(self, value: Any) -> list[Any]:
        text = super().clean(value)
        lines = [line.strip() for line in str(text or "").splitlines() if line.strip()]
        items: list[Any] = []
        errors: list[ValidationError] = []
        for number, line in enumerate(lines, start=1):
            try:
                items.append(self.item.clean(line))
            except ValidationError as exc:
                errors.extend(
                    ValidationError(_("Line %(number)s: %(message)s"),
                                    params={"number": number, "message": message})
                    for message in exc.messages
                )
        if errors:
            raise ValidationError(errors)
        _check_count(items, self.min_items, self.max_items, self.unique, self.required)
        return items


def _check_count(items: list[Any], min_items: int, max_items: int | None, unique: bool,
                 required: bool) -> None:
    if (items or required) and len(items) < min_items:
        raise ValidationError(ngettext("Give at least %(n)d value.",
                                       "Give at least %(n)d values.", min_items),
                              params={"n": min_items})
    if max_items is not None and len(items) > max_items:
        raise ValidationError(ngettext("Give at most %(n)d value.",
                                       "Give at most %(n)d values.", max_items),
                              params={"n": max_items})
    if unique and len({json.dumps(i, sort_keys=True, default=str) for i in items}) < len(items):
        raise ValidationError(_("Give each value only once."))


class ChoicesField(forms.MultipleChoiceField):
    """A JSON array of values from a list: a checkbox for each."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, *, min_items: int, max_items: int | None, unique: bool,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.min_items, self.max_items, self.unique = min_items, max_items, unique

    def validate(self, value: Any) -> None:
        super().validate(value)
        _check_count(list(value or []), self.min_items, self.max_items, False, self.required)


class JSONTextField(forms.CharField):
    """Any other JSON value (a nested object, say), typed as JSON."""

    widget = forms.Textarea(attrs={"rows": 4})

    def clean(self, value: Any) -> Any:
        text = super().clean(value)
        if text in self.empty_values:
            return None
        try:
            return json.loads(text)
        except ValueError:
            raise ValidationError(_("Enter a valid JSON value.")) from None


class ExclusiveMinimum(MinValueValidator):
    message = _("Ensure this value is greater than %(limit_value)s.")
    code = "exclusive_minimum"

    def compare(self, a: Any, b: Any) -> bool:
        return bool(a <= b)


class ExclusiveMaximum(MaxValueValidator):
    message = _("Ensure this value is less than %(limit_value)s.")
    code = "exclusive_maximum"

    def compare(self, a: Any, b: Any) -> bool:
        return bool(a >= b)


def _number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _limits(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Bounds of a number: inclusive ones also tell the browser (min and max attributes)."""
    def bound(key: str) -> int | float | None:
        value = spec.get(key)
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None

    validators = [validator(bound(key)) for key, validator in (
        ("exclusiveMinimum", ExclusiveMinimum), ("exclusiveMaximum", ExclusiveMaximum),
    ) if bound(key) is not None]
    return {"min_value": bound("minimum"), "max_value": bound("maximum"),
            "validators": validators}


def _choice(key: str, titles: Mapping[str, str]) -> tuple[str, str]:
    return key, titles.get(key) or key.replace("_", " ")


def _enum_field(values: list[Any], required: bool, titles: Mapping[str, str] | None = None,
                **common: Any) -> tuple[forms.Field, Codec]:
    by_key = {str(value): value for value in values}
    choices = [_choice(key, titles or {}) for key in by_key]
    widget: type[forms.Widget] = forms.RadioSelect if len(choices) <= RADIO_UP_TO else forms.Select
    if not required and widget is forms.Select:
        choices = [("", "—"), *choices]
    field = forms.TypedChoiceField(choices=choices, coerce=by_key.__getitem__, empty_value=None,
                                   widget=widget, required=required, **common)
    return field, Codec(_same, lambda value: str(value) if value is not None else value)


def field_for(spec: Mapping[str, Any], *, required: bool, label: str,
              help_text: str = "", titles: Mapping[str, str] | None = None,
              ) -> tuple[forms.Field, Codec]:
    """The form field for one property of an e-form, and how its value becomes JSON;
    `titles` name an enum's values (`enum_titles`)."""
    common: dict[str, Any] = {"label": label, "help_text": help_text}
    kind = spec.get("type")
    if "const" in spec and kind == "boolean" and spec["const"] is True:
        return forms.BooleanField(required=True, **common), PLAIN
    if "const" in spec:
        return _enum_field([spec["const"]], required, titles, **common)
    if isinstance(spec.get("enum"), list) and spec["enum"]:
        return _enum_field(spec["enum"], required, titles, **common)
    if kind == "string":
        return _string_field(spec, required, common)
    if kind == "integer":
        return forms.IntegerField(required=required, **_limits(spec), **common), PLAIN
    if kind == "number":
        return forms.DecimalField(required=required, **_limits(spec), **common), Codec(
            _number, _same
        )
    if kind == "boolean":
        return forms.BooleanField(required=False, **common), PLAIN
    if kind == "array" and isinstance(spec.get("items"), Mapping):
        return _array_field(spec, required, common, titles)
    return JSONTextField(required=required, **common), Codec(
        _same, lambda value: value if isinstance(value, str) else json.dumps(value,
                                                                             ensure_ascii=False)
    )


def _string_field(spec: Mapping[str, Any], required: bool,
                  common: dict[str, Any]) -> tuple[forms.Field, Codec]:
    if spec.get("format") == "date":
        widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        return forms.DateField(required=required, widget=widget, **common), Codec(_date, _same)
    lengths: dict[str, Any] = {"max_length": spec.get("maxLength"),
                               "min_length": spec.get("minLength")}
    if spec.get("format") == "email":
        field: forms.CharField = forms.EmailField(required=required, **lengths, **common)
        field.widget.attrs["autocomplete"] = "email"
        return field, PLAIN
    validators = [RegexValidator(spec["pattern"])] if isinstance(spec.get("pattern"), str) else []
    field = forms.CharField(required=required, validators=validators, **lengths, **common)
    if spec.get(APPLICANT_PHONE) is True:
        # the applicant's own phone: a phone's dialling pad, and the browser's own number
        field.widget.input_type = "tel"
        field.widget.attrs["autocomplete"] = "tel"
    elif validators and DIGITS.match(spec["pattern"]):
        field.widget.attrs["inputmode"] = "numeric"  # digits only: a phone's number pad
    return field, PLAIN


def _array_field(spec: Mapping[str, Any], required: bool, common: dict[str, Any],
                 titles: Mapping[str, str] | None = None) -> tuple[forms.Field, Codec]:
    items = spec["items"]
    # A list the schema requires may still be empty unless it has a minimum: then the form
    # lets it be left blank, and `form_data` sends an empty list.
    required = required and int(spec.get("minItems", 0)) > 0
    counts: dict[str, Any] = {"min_items": int(spec.get("minItems", 0)),
                              "max_items": spec.get("maxItems"),
                              "unique": bool(spec.get("uniqueItems"))}
    if isinstance(items.get("enum"), list) and items["enum"]:
        by_key = {str(value): value for value in items["enum"]}
        field: forms.Field = ChoicesField(
            choices=[_choice(key, titles or {}) for key in by_key], required=required,
            **counts, **common,
        )
        return field, Codec(lambda values: [by_key[v] for v in values],
                            lambda values: [str(v) for v in values]
                            if isinstance(values, list) else values)
    item, item_codec = field_for(items, required=True, label=common["label"])
    common = {**common, "help_text": common["help_text"] or _("One value per line.")}
    field = LinesField(item=item, required=required, **counts, **common)
    return field, Codec(
        lambda values: [item_codec.to_json(v) for v in values],
        lambda values: "\n".join(str(item_codec.to_initial(v)) for v in values)
        if isinstance(values, list) else values,
    )


def _sniff(content: bytes) -> str | None:
    return next((kind for magic, kind in SIGNATURES.items() if content.startswith(magic)), None)


class DocumentField(forms.FileField):
    """An upload of a PDF, JPEG or PNG file of at most ONESTOP_MAX_UPLOAD_BYTES; its type
    is read from its first bytes, not from what the browser says."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.widget.attrs["accept"] = ACCEPTED_FILES

    def clean(self, data: Any, initial: Any = None) -> UploadedFile | None:
        upload: UploadedFile | None = super().clean(data, initial)
        if not upload:
            return None
        limit = settings.ONESTOP_MAX_UPLOAD_BYTES
        if (upload.size or 0) > limit:
            raise ValidationError(_("The file is larger than %(mb)d MB."),
                                  params={"mb": limit // 1_000_000})
        upload.seek(0)
        if _sniff(upload.read(16)) is None:
            raise ValidationError(_("The file must be a PDF, JPEG or PNG file."))
        upload.seek(0)
        return upload


def uploaded(code: str, upload: UploadedFile) -> UploadedDocument:
    upload.seek(0)
    content = upload.read()
    return UploadedDocument(code=code, name=upload.name or code,
                            content_type=_sniff(content) or "application/octet-stream",
                            content=content)


def document_label(standard: ServiceStandard, code: str, language: str,
                   fallbacks: Iterable[str]) -> str:
    """A document's name in the standard, in `language`; its code if the standard has none."""
    for document in standard.documents:
        if document.get("code") == code:
            return localize(document.get("name"), language, fallbacks) or code
    return code


class PortalForm(forms.Form):
    @property
    def has_field_errors(self) -> bool:
        """Some field has a mistake (beyond the problems of the form as a whole)."""
        return any(name != NON_FIELD_ERRORS for name in self.errors)


class ApplicationForm(PortalForm):
    """A service standard's e-form, with an upload for each document the applicant brings."""

    mark_optional = True  # the portal marks the fields that may be left empty

    def __init__(self, data: Any = None, files: Any = None, *, standard: ServiceStandard,
                 language: str, fallbacks: Iterable[str] = (),
                 initial: Mapping[str, Any] | None = None, omit: Iterable[str] = (),
                 filled_in: Iterable[str] = ()) -> None:
        super().__init__(data, files, prefix=PREFIX, label_suffix="")
        fallbacks = tuple(fallbacks)
        schema = standard.eform or {}
        properties: Mapping[str, Any] = schema.get("properties") or {}
        # the applicant's own national ID is filled in by services.submit when left empty,
        # and so are `filled_in` (the applicant's contact the page passes on): not
        # required, and not marked optional either
        self.filled_in = set(applicant_id_properties(schema)) | set(filled_in)
        required = set(schema.get("required") or []) - self.filled_in
        self.required_lists = {name for name in required
                               if isinstance(properties.get(name), Mapping)
                               and properties[name].get("type") == "array"}
        self.codecs: dict[str, Codec] = {}
        omitted = set(omit)  # fields the page asks for otherwise
        for name in _ordered(schema, properties):
            if name in omitted:
                continue
            spec = properties[name] if isinstance(properties[name], Mapping) else {}
            label = (localize(spec.get("x-title"), language, fallbacks) or spec.get("title")
                     or name.replace("_", " "))
            help_text = (localize(spec.get("x-description"), language, fallbacks)
                         or spec.get("description") or "")
            items = spec.get("items")
            titles = enum_titles(items if isinstance(items, Mapping) and "x-enum-titles" in items
                                 else spec, language, fallbacks)
            self.fields[name], self.codecs[name] = field_for(
                spec, required=name in required, label=str(label), help_text=str(help_text),
                titles=titles,
            )
        self.document_codes: list[str] = []
        for document in standard.documents_from("applicant"):
            code = str(document["code"])
            if code == FORM_DOCUMENT:
                continue  # the application itself: this e-form is that document
            self.document_codes.append(code)
            self.fields[DOCUMENT + code] = DocumentField(
                label=document_label(standard, code, language, fallbacks),
                required=bool(document.get("required", True)),
                help_text=_("PDF, JPEG or PNG"),
            )
        if initial:
            self.initial = self.initial_from(initial)

    def initial_from(self, form_data: Mapping[str, Any]) -> dict[str, Any]:
        """Widget values for saved form data (a draft): JSON values, or the raw text of a
        value that was not valid yet when it was saved."""
        return {name: self.codecs[name].to_initial(value)
                for name, value in form_data.items() if name in self.codecs}

    def form_data(self) -> dict[str, Any]:
        """The JSON form data of a valid form: empty optional fields are left out, a
        checkbox is always there (an unticked box is false), and so is a required list."""
        data: dict[str, Any] = {}
        for name, codec in self.codecs.items():
            value = self.cleaned_data.get(name)
            if isinstance(self.fields[name], forms.BooleanField):
                data[name] = bool(value)
            elif value not in (None, "", []):
                data[name] = codec.to_json(value)
            elif name in self.required_lists:
                data[name] = []
        return data

    def documents(self) -> list[UploadedDocument]:
        return [uploaded(code, self.cleaned_data[DOCUMENT + code])
                for code in self.document_codes if self.cleaned_data.get(DOCUMENT + code)]

    def draft_data(self) -> dict[str, Any]:
        """What was typed, to be resumed later, whether complete and valid or not: each
        valid value as JSON, each other one as typed. Uploads are not kept."""
        data: dict[str, Any] = {}
        for name, codec in self.codecs.items():
            field = self.fields[name]
            raw = field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
            if raw in (None, "", [], False):
                continue
            try:
                data[name] = codec.to_json(field.clean(raw))
            except ValidationError:
                data[name] = raw
        return data

    def add_problems(self, problems: Mapping[str, list[str]]) -> None:
        """Show each problem `services.submit` found next to its field ("form.child_name",
        "documents.id_card"); any other ("national_id", "channel") above the form."""
        for key, messages in problems.items():
            head, _dot, rest = key.partition(".")
            name = {"form": rest.split(".")[0], "documents": DOCUMENT + rest}.get(head, "")
            for message in messages:
                if name in self.fields:
                    self.add_error(name, message)
                else:
                    self.add_error(None, f"{key}: {message}")

    def eform_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.codecs]

    def document_fields(self) -> list[forms.BoundField]:
        return [self[DOCUMENT + code] for code in self.document_codes]


def _ordered(schema: Mapping[str, Any], properties: Mapping[str, Any]) -> list[str]:
    # PostgreSQL's jsonb does not keep the order of an object's keys; a list does, so an
    # `x-order` list, when the e-form has one, gives the order the pack declared.
    declared = [name for name in schema.get("x-order") or [] if name in properties]
    return declared + [name for name in properties if name not in declared]


class ActionForm(PortalForm):
    """One workflow action a citizen may take: uploads of the documents asked for, a
    comment, and for a withdrawal a confirmation."""

    comment = forms.CharField(label=_("Comment"), required=False, max_length=5000,
                              widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, data: Any = None, files: Any = None, *, action: str, title: str,
                 documents: Mapping[str, str] | None = None, comment_required: bool = False,
                 confirm: str = "") -> None:
        super().__init__(data, files, prefix=action, label_suffix="")
        self.action, self.title = action, title
        self.fields["comment"].required = comment_required
        if not comment_required:
            self.fields["comment"].label = _("Comment (optional)")
        self.document_codes = list(documents or {})
        for code, label in (documents or {}).items():
            self.fields[DOCUMENT + code] = DocumentField(label=label, required=False,
                                                         help_text=_("PDF, JPEG or PNG"))
        if confirm:
            self.fields["confirm"] = forms.BooleanField(label=confirm, required=True)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.document_codes and not any(cleaned.get(DOCUMENT + c) for c in self.document_codes):
            raise ValidationError(_("Attach at least one document."))
        return cleaned

    def documents(self) -> list[UploadedDocument]:
        return [uploaded(code, self.cleaned_data[DOCUMENT + code])
                for code in self.document_codes if self.cleaned_data.get(DOCUMENT + code)]

    def add_problems(self, problems: Mapping[str, list[str]]) -> None:
        for key, messages in problems.items():
            head, _dot, rest = key.partition(".")
            name = DOCUMENT + rest if head == "documents" else key
            for message in messages:
                self.add_error(name if name in self.fields else None,
                               message if name in self.fields else f"{key}: {message}")
