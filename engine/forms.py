"""form-js form definitions: loading them from forms/, and validating submitted data against them.

The browser renders a form with the form-js viewer; the server never trusts that and checks
every submission here, with a marshmallow schema built from the same definition.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import marshmallow as ma

from engine.errors import FormError, InvalidInputError, Problem

# form-js components that hold no data.
_LAYOUT_TYPES = {"text", "html", "image", "spacer", "separator", "button", "iframe", "table", "documentPreview"}
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def normalise_form_key(form_key: str) -> str:
    """Accept what Camunda Modeler users write: `melding`, `melding.form`, `embedded:app:forms/melding.json`."""
    key = form_key.strip()
    for prefix in ("camunda-forms:deployment:", "camunda-forms:app:", "embedded:app:", "embedded:deployment:", "app:"):
        if key.startswith(prefix):
            key = key[len(prefix) :]
    key = key.rsplit("/", 1)[-1]
    for suffix in (".form", ".json"):
        if key.endswith(suffix):
            key = key[: -len(suffix)]
    return key


def load_forms(directory: str | Path) -> dict[str, dict[str, Any]]:
    """Read every `*.form` / `*.json` file in `directory`; raise FormError listing every broken one."""
    forms: dict[str, dict[str, Any]] = {}
    problems: list[Problem] = []
    for path in sorted(Path(directory).glob("*")):
        if path.suffix not in (".form", ".json"):
            continue
        try:
            definition = json.loads(path.read_text(encoding="utf-8"))
            check_form(definition)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            problems.append(Problem(f"{path.name} is not valid JSON: {error}", element=path.name))
            continue
        except FormError as error:
            problems.extend(Problem(f"{path.name}: {p.message}", element=p.element) for p in error.problems)
            continue
        forms[normalise_form_key(path.name)] = definition
    if problems:
        raise FormError("Some forms are invalid.", problems=problems)
    return forms


def check_form(definition: Any) -> None:
    """Refuse a definition that is not a form-js form with unique, well-formed field keys."""
    if not isinstance(definition, dict) or not isinstance(definition.get("components"), list):
        raise FormError(problems=[Problem("A form needs a list of components.")])
    problems = []
    seen: set[str] = set()
    for component in _data_fields(definition["components"]):
        key = component.get("key")
        if not isinstance(key, str) or not _KEY.match(key):
            problems.append(Problem(f"Field {component.get('label') or component.get('id')!r} needs a key made of "
                                    "letters, digits and underscores.", element=str(component.get("id"))))
        elif key in seen:
            problems.append(Problem(f"Two fields use the key {key!r}.", element=key))
        else:
            seen.add(key)
    if problems:
        raise FormError(problems=problems)


def _data_fields(components: list[Any]) -> Iterator[dict[str, Any]]:
    for component in components:
        if not isinstance(component, dict):
            continue
        kind = component.get("type")
        if kind == "group":
            yield from _data_fields(component.get("components") or [])
        elif kind not in _LAYOUT_TYPES:
            yield component


def fields(definition: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The data-carrying fields of a form, groups flattened."""
    return list(_data_fields(list(definition.get("components") or [])))


def validate_submission(definition: Mapping[str, Any], data: Any) -> dict[str, Any]:
    """Return the data as loaded by the form's schema, or raise InvalidInputError with one problem per field."""
    if not isinstance(data, dict):
        raise InvalidInputError("The form data must be an object.", problems=[Problem("Expected an object.", "data")])
    schema = _schema_for(definition)
    try:
        loaded = schema.load(data)
    except ma.ValidationError as error:
        problems = [
            Problem(message, element=f"data.{field}")
            for field, messages in _flat(error.messages)
            for message in messages
        ]
        raise InvalidInputError("The form data is not valid; see errors.", problems=problems) from None
    return {key: _jsonable(value) for key, value in loaded.items()}


def _flat(messages: Any, prefix: str = "") -> Iterator[tuple[str, list[str]]]:
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from _flat(value, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, [str(m) for m in (messages if isinstance(messages, list) else [messages])]


def _jsonable(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _schema_for(definition: Mapping[str, Any]) -> ma.Schema:
    declared = {component["key"]: _field_for(component) for component in fields(definition)}
    schema_class = ma.Schema.from_dict(declared, name="FormSubmission")
    return schema_class(unknown=ma.RAISE)


def _field_for(component: Mapping[str, Any]) -> ma.fields.Field:
    kind = component.get("type")
    rules = component.get("validate") or {}
    required = bool(rules.get("required"))
    validators: list[Any] = []
    options: dict[str, Any] = {"required": required, "allow_none": not required}
    allowed = [v.get("value") for v in component.get("values") or [] if isinstance(v, dict)]
    if kind in ("textfield", "textarea"):
        if rules.get("minLength") is not None or rules.get("maxLength") is not None:
            validators.append(ma.validate.Length(min=rules.get("minLength"), max=rules.get("maxLength")))
        if required:
            validators.append(ma.validate.Length(min=1, error="This field is required."))
        if rules.get("pattern"):
            validators.append(ma.validate.Regexp(rules["pattern"], error="Does not match the expected format."))
        if rules.get("validationType") == "email":
            validators.append(ma.validate.Email())
        if rules.get("validationType") == "phone":
            validators.append(ma.validate.Regexp(r"^\+?[0-9 ()-]{6,20}$", error="Not a valid phone number."))
        return ma.fields.String(validate=validators, **options)
    if kind == "number":
        if rules.get("min") is not None or rules.get("max") is not None:
            validators.append(ma.validate.Range(min=rules.get("min"), max=rules.get("max")))
        return ma.fields.Float(validate=validators, **options)
    if kind == "checkbox":
        if required:
            # form-js reads `required` on a checkbox as "must be checked", so false is no answer.
            validators.append(ma.validate.Equal(True, error="This box must be checked."))
        return ma.fields.Boolean(validate=validators, **options)
    if kind in ("select", "radio"):
        if allowed:
            validators.append(ma.validate.OneOf(allowed, error="Choose one of the options."))
        return ma.fields.String(validate=validators, **options)
    if kind in ("checklist", "taglist"):
        inner = ma.fields.String(validate=ma.validate.OneOf(allowed)) if allowed else ma.fields.String()
        if required:
            validators.append(ma.validate.Length(min=1, error="Choose at least one option."))
        return ma.fields.List(inner, validate=validators, **options)
    if kind == "datetime":
        subtype = component.get("subtype", "date")
        if subtype == "date":
            return ma.fields.Date(**options)
        if subtype == "time":
            return ma.fields.Time(**options)
        return ma.fields.AwareDateTime(default_timezone=None, **options)
    if kind == "dynamiclist":
        return ma.fields.List(ma.fields.Dict(), **options)
    return ma.fields.Raw(**options)
