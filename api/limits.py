"""Input limits enforced before a view runs: ids that fit the database, JSON that parses safely,
and case data of bounded shape.

- Path ids (`<int:...>` everywhere) are 1 … 2^31-1: a larger or negative id is simply not found
  (404), instead of reaching PostgreSQL, which refuses it as out of range.
- A JSON body must be valid UTF-8 JSON without lone surrogates (`"\\ud800"`, which no database
  column can store) and nest at most MAX_JSON_DEPTH deep; otherwise 400. It is parsed here, once,
  before Flask's get_json or webargs see it.
- Case data (start data, form data) is bounded by `CaseData` (422 naming the field).
"""

from __future__ import annotations

import json
from typing import Any

import marshmallow as ma
from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter, Map

from api.problems import problem_response
from engine.errors import InvalidInputError, Problem

MAX_ROW_ID = 2**31 - 1
MAX_JSON_DEPTH = 64

# The shape of case data a person can submit: a form or the start of a case.
MAX_DATA_DEPTH = 5  # the data object itself is level 1
MAX_DATA_KEYS = 200  # per object
MAX_DATA_ITEMS = 1000  # per list
MAX_DATA_STRING = 10_000  # characters per text value
MAX_DATA_KEY = 100  # characters per field name
MAX_DATA_SIZE = 1_000_000  # characters of the whole, as JSON


# Field names as the engine and the forms use them: letters, digits and underscores.
FIELD_NAME = r"^[A-Za-z][A-Za-z0-9_]*$"
_TEXT = {"type": "string", "maxLength": MAX_DATA_STRING, "pattern": "^[^\\u0000]*$"}
_SCALAR = {"anyOf": [_TEXT, {"type": "number"}, {"type": "boolean"}], "nullable": True}
# What the document promises about a value: text, a number, yes/no, or a list or object of those.
# (The server accepts deeper nesting, up to MAX_DATA_DEPTH; forms never produce it.)
CASE_VALUE = {"anyOf": [
    _SCALAR,
    {"type": "array", "maxItems": MAX_DATA_ITEMS, "items": _SCALAR},
    {"type": "object", "maxProperties": MAX_DATA_KEYS, "additionalProperties": _SCALAR},
]}


class RowIdConverter(IntegerConverter):
    """The `int` converter, bounded to the ids a database row can have."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = 1, max: int | None = MAX_ROW_ID,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def parse_json_body() -> Any:
    """Parse a JSON request body here, with a depth limit and strict text; 400 when it is not."""
    if not request.is_json:
        return None
    body = request.get_data(cache=True)
    if not body:
        return None
    try:
        data = json.loads(body.decode("utf-8"))
        _check_json(data)
    except (ValueError, RecursionError) as error:
        detail = str(error) if isinstance(error, _JsonLimitError) else "The request body is not valid JSON."
        if not request.path.startswith("/api/"):
            abort(400)  # the pages answer in their own (Dutch) way
        return problem_response(400, "bad-request", detail, errors=[{"field": "body", "message": detail}])
    request._cached_json = (data, data)  # Flask's get_json() now answers from this parse.
    return None


class _JsonLimitError(ValueError):
    pass


def _check_json(data: Any) -> None:
    # Iterative, so a deep document cannot exhaust the stack here.
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise _JsonLimitError(f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels.")
            items = value.items() if isinstance(value, dict) else ((None, v) for v in value)
            for key, item in items:
                if key is not None:
                    _check_text(key)
                stack.append((item, depth + 1))
        elif isinstance(value, str):
            _check_text(value)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _JsonLimitError("The JSON body contains invalid Unicode (a lone surrogate).") from None


class CaseData(ma.fields.Dict):
    """Case data from a person (start data, form data): an object of bounded depth, width and text."""

    def __init__(self, **kwargs: Any) -> None:
        description = (
            f"{kwargs.pop('description', 'Case data')}. At most {MAX_DATA_DEPTH} levels deep, "
            f"{MAX_DATA_KEYS} fields per object, {MAX_DATA_ITEMS} items per list, {MAX_DATA_STRING} characters "
            f"per text and {MAX_DATA_SIZE} characters in all."
        )
        super().__init__(
            keys=ma.fields.String(validate=[ma.validate.Length(min=1, max=MAX_DATA_KEY),
                                            ma.validate.Regexp(FIELD_NAME, error="Not a valid field name.")]),
            metadata={"description": description, "additionalProperties": CASE_VALUE}, **kwargs,
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        result = super()._deserialize(value, attr, data, **kwargs)
        problems = list(_shape_problems(result, "", 1))
        if not problems and len(json.dumps(result)) > MAX_DATA_SIZE:
            problems.append(("", f"At most {MAX_DATA_SIZE} characters in all."))
        if problems:
            # Nested messages become errors named json.data.<path> in the problem response.
            messages: dict[str, Any] = {}
            for path, message in problems[:20]:
                messages.setdefault(path or "_schema", []).append(message)
            if list(messages) == ["_schema"]:
                raise ma.ValidationError(messages["_schema"])
            raise ma.ValidationError(messages)
        return result


def check_case_data(data: Any) -> None:
    """The same limits for case data that arrives outside the API schemas (the task page's script):
    raise InvalidInputError naming each field as data.<path>."""
    problems = list(_shape_problems(data, "", 1))
    if not problems and len(json.dumps(data)) > MAX_DATA_SIZE:
        problems.append(("", f"At most {MAX_DATA_SIZE} characters in all."))
    if problems:
        raise InvalidInputError("The data exceeds the limits; see errors.", problems=[
            Problem(message, f"data.{path}" if path else "data") for path, message in problems[:20]
        ])


def _shape_problems(value: Any, path: str, depth: int) -> Any:
    def at(key: Any) -> str:
        return f"{path}.{key}" if path else str(key)

    if isinstance(value, dict | list) and depth > MAX_DATA_DEPTH:
        yield path, f"Nested more than {MAX_DATA_DEPTH} levels deep."
        return
    if isinstance(value, dict):
        if len(value) > MAX_DATA_KEYS:
            yield path, f"At most {MAX_DATA_KEYS} fields."
            return
        for key, item in value.items():
            if len(str(key)) > MAX_DATA_KEY:
                yield at(key)[:MAX_DATA_KEY + 50], f"A field name has at most {MAX_DATA_KEY} characters."
            else:
                yield from _shape_problems(item, at(key), depth + 1)
    elif isinstance(value, list):
        if len(value) > MAX_DATA_ITEMS:
            yield path, f"At most {MAX_DATA_ITEMS} items."
            return
        for index, item in enumerate(value):
            yield from _shape_problems(item, at(index), depth + 1)
    elif isinstance(value, str) and len(value) > MAX_DATA_STRING:
        yield path, f"At most {MAX_DATA_STRING} characters."


def init_app(app: Flask) -> None:
    """Call before any route is added: rules bind their converters when they are added."""
    app.url_map.converters["int"] = RowIdConverter
