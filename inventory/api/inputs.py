"""Input: query strings and JSON bodies are cleaned by the portal's own forms, so a script is
told what is wrong in the sentences the pages use, and the rules live in one place. The
OpenAPI description of each input is derived from the same form."""

from __future__ import annotations

from typing import Any, TypeVar

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.utils.datastructures import MultiValueDict
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from inventory import phone
from inventory.api.problems import InvalidInput
from inventory.forms import CountryField

_SCALARS = (str, int, float, bool)
F = TypeVar("F", bound=forms.Form)


def body_object(data: Any) -> dict:
    """The request's JSON body, which must be an object ({} when there is none)."""
    if data is None or data == {}:
        return {}
    if not isinstance(data, dict):
        raise InvalidInput([{"pointer": "#", "detail": "The body must be a JSON object."}])
    return data


def body_form(form_class: type[F], data: Any, *, at: str = "#/", **kwargs) -> F:
    """`form_class` bound to the body and valid, or InvalidInput naming each field at fault
    by its JSON pointer (`at` + the field's name)."""
    form = form_class(data=_form_data(body_object(data), at), **kwargs)
    if not form.is_valid():
        raise InvalidInput(_errors(form, lambda name: {"pointer": at + name if name else "#"}))
    return form


def query_form(form_class: type[F], query, **kwargs) -> F:
    """`form_class` bound to the query string and valid, or InvalidInput naming each
    parameter at fault."""
    form = form_class(data=query, **kwargs)
    if not form.is_valid():
        raise InvalidInput(_errors(form, lambda name: {"parameter": name} if name else {}))
    return form


def _errors(form: forms.Form, where) -> list[dict]:
    return [
        {**where("" if name == NON_FIELD_ERRORS else name), "detail": str(message)}
        for name, messages in form.errors.items()
        for message in messages
    ]


def _form_data(body: dict, at: str) -> MultiValueDict:
    """A JSON object as a form's data: text values, lists as multiple values."""
    data: MultiValueDict = MultiValueDict()
    problems = []
    for name, value in body.items():
        values = value if isinstance(value, list) else [value]
        if not all(v is None or isinstance(v, _SCALARS) for v in values):
            problems.append({"pointer": at + name, "detail": f"The {name} must be text."})
            continue
        data.setlist(name, [_text(v) for v in values if v is not None])
    if problems:
        raise InvalidInput(problems)
    return data


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- the same forms, described for OpenAPI ---------------------------------------------------


def _choices(field: forms.ChoiceField) -> list[str]:
    choices: Any = field.choices
    return [str(value) for value, _label in choices if value != ""]


def form_parameters(form_class: type[forms.Form], *, exclude=()) -> list[OpenApiParameter]:
    """The query parameters a form reads."""
    parameters = []
    for name, field in form_class.base_fields.items():
        if name in exclude:
            continue
        schema = _field_schema(field)
        many = schema.get("type") == "array"
        parameters.append(
            OpenApiParameter(
                name,
                schema,
                location=OpenApiParameter.QUERY,
                required=field.required,
                description=str(field.help_text or field.label or ""),
                explode=True if many else None,
            )
        )
    return parameters


def _field_schema(field: forms.Field) -> dict:
    if isinstance(field, CountryField):
        return {"type": "string", "enum": sorted(phone.country_codes())}
    if isinstance(field, forms.MultipleChoiceField):
        return {"type": "array", "items": {"type": "string", "enum": _choices(field)}}
    if isinstance(field, forms.ChoiceField):
        choices = _choices(field)
        if isinstance(field, forms.TypedChoiceField) and field.coerce is int:
            return {"type": "integer", "enum": [int(c) for c in choices]}
        return {"type": "string", "enum": choices}
    if isinstance(field, forms.IntegerField) and not isinstance(field, forms.DecimalField):
        schema: dict = {"type": "integer"}
        if field.min_value is not None:
            schema["minimum"] = field.min_value
        if field.max_value is not None:
            schema["maximum"] = field.max_value
        return schema
    if isinstance(field, forms.DateField):
        return {"type": "string", "format": "date"}
    if isinstance(field, forms.BooleanField):
        return {"type": "boolean"}
    schema = {"type": "string"}
    max_length = getattr(field, "max_length", None)
    if max_length:
        schema["maxLength"] = max_length
    return schema


def form_serializer(
    form_class: type[forms.Form], name: str, *, exclude=(), optional=False
) -> type[serializers.Serializer]:
    """A serializer that describes the JSON body `form_class` reads (for OpenAPI only: the
    form does the cleaning). `optional`: every field may be left out (kept as it is)."""
    fields = {
        field_name: _serializer_field(field, optional=optional)
        for field_name, field in form_class.base_fields.items()
        if field_name not in exclude
    }
    return type(name, (serializers.Serializer,), fields)


def _serializer_field(field: forms.Field, *, optional: bool) -> serializers.Field:
    required = field.required and not optional
    common: dict[str, Any] = {"required": required, "help_text": str(field.help_text or "")}
    if isinstance(field, CountryField):
        return serializers.ChoiceField(choices=sorted(phone.country_codes()), **common)
    if isinstance(field, forms.MultipleChoiceField):
        return serializers.MultipleChoiceField(choices=_choices(field), **common)
    if isinstance(field, forms.ModelChoiceField):
        return serializers.IntegerField(allow_null=True, **common)
    if isinstance(field, forms.ChoiceField):
        return serializers.ChoiceField(
            choices=[("", "")] * (not field.required) + [(c, c) for c in _choices(field)],
            **common,
        )
    if isinstance(field, forms.DecimalField):
        return serializers.DecimalField(
            max_digits=field.max_digits, decimal_places=field.decimal_places, **common
        )
    if isinstance(field, forms.IntegerField):
        return serializers.IntegerField(
            min_value=field.min_value, max_value=field.max_value, **common
        )
    if isinstance(field, forms.RegexField):
        return serializers.RegexField(field.regex.pattern, **common)
    return serializers.CharField(
        max_length=getattr(field, "max_length", None), allow_blank=not field.required, **common
    )
