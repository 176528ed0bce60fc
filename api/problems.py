"""Errors as problem+json (RFC 9457): one table maps engine errors to HTTP statuses and types."""

from __future__ import annotations

import http
import logging
from typing import Any

import marshmallow as ma
from flask import Response, current_app, json, request
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException
from werkzeug.routing import UnicodeConverter

from engine import errors

log = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:ketenregie:problem:"

# (status, stable type slug) per engine error. The most specific class wins (checked by MRO).
ENGINE_ERRORS: dict[type[errors.EngineError], tuple[int, str]] = {
    errors.AuthenticationError: (401, "unauthenticated"),
    errors.PermissionDeniedError: (403, "forbidden"),
    errors.NotFoundError: (404, "not-found"),
    errors.ConflictError: (409, "conflict"),
    errors.InvalidInputError: (422, "validation"),
    errors.DiagramError: (422, "invalid-diagram"),
    errors.FormError: (422, "invalid-form"),
    errors.SandboxViolationError: (422, "sandbox-violation"),
    errors.RoutingError: (422, "unroutable"),
    errors.ScriptError: (422, "script-error"),
    errors.RateLimitedError: (429, "rate-limited"),
    errors.EngineError: (400, "bad-request"),
}

HTTP_TYPES = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "too-large",
    415: "unsupported-media-type",
    422: "validation",
    429: "rate-limited",
}


class FieldErrorSchema(ma.Schema):
    field = ma.fields.String(metadata={"description": "Where: a request field (json.username) or a form field key"})
    message = ma.fields.String()


class DiagramProblemSchema(ma.Schema):
    message = ma.fields.String()
    element = ma.fields.String(allow_none=True, metadata={"description": "BPMN element id or form field"})
    line = ma.fields.Integer(allow_none=True)
    code = ma.fields.String()


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details. Only documents the payload; responses are built by hand."""

    type = ma.fields.String()
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    instance = ma.fields.String()
    errors = ma.fields.List(ma.fields.Nested(FieldErrorSchema))
    problems = ma.fields.List(ma.fields.Nested(DiagramProblemSchema))


def problem_response(
    status: int, slug: str, detail: str = "", *, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + slug,
        "title": http.HTTPStatus(status).phrase,
        "status": status,
        "instance": request.path,
    }
    if detail:
        body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    response = current_app.response_class(json.dumps(body), status=status, mimetype=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten_messages(messages: Any, prefix: str = "") -> list[dict[str, str]]:
    """Turn marshmallow/webargs nested messages into [{field, message}] rows."""
    out: list[dict[str, str]] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            out.extend(flatten_messages(value, path))
    elif isinstance(messages, list | tuple) and all(isinstance(m, str) for m in messages):
        out.extend({"field": prefix or "body", "message": m} for m in messages)
    elif isinstance(messages, list | tuple):
        for i, value in enumerate(messages):
            out.extend(flatten_messages(value, f"{prefix}.{i}" if prefix else str(i)))
    else:
        out.append({"field": prefix or "body", "message": str(messages)})
    return out


def wants_problem() -> bool:
    return request.path.startswith("/api/")


# Text without NUL: PostgreSQL cannot store it and refuse_nul_characters refuses it (422), so the
# document says so on every string, in bodies, queries and paths alike.
NO_NUL = "^[^\\u0000]*$"


def _no_nul_in_strings(converter: Any, field: ma.fields.Field, ret: dict[str, Any]) -> dict[str, Any]:
    if isinstance(field, ma.fields.String) and not isinstance(field, ma.fields.DateTime | ma.fields.Date) \
            and "pattern" not in ret and "enum" not in ret:
        return {"pattern": NO_NUL}
    return {}


def _path_string(converter: Any) -> dict[str, Any]:
    return {"type": "string", "pattern": "^[^\\u0000/]+$"}


class ProblemApi(Api):
    """flask-smorest's Api, answering and documenting errors as problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def _init_spec(self, **kwargs: Any) -> None:
        super()._init_spec(**kwargs)
        self.ma_plugin.converter.add_attribute_function(_no_nul_in_strings)
        self.register_converter(UnicodeConverter, _path_string)

    def handle_http_exception(self, error: HTTPException) -> Any:
        if not wants_problem():
            return error  # Pages get Werkzeug's (or a template's) HTML answer.
        status = error.code or 500
        headers = dict(error.get_headers())
        headers.pop("Content-Type", None)
        data = getattr(error, "data", None) or {}
        headers.update(data.get("headers") or {})
        field_errors = None
        if "messages" in data:
            field_errors = flatten_messages(data["messages"])
        detail = data.get("message") or error.description or ""
        if status == 400 and field_errors and any("Invalid JSON" in e["message"] for e in field_errors):
            detail = "The request body is not valid JSON."
        elif status == 422 and field_errors:
            detail = "The request has invalid fields; see errors."
        if status >= 500:
            detail = "Something went wrong on our side. It has been logged."
        return problem_response(status, HTTP_TYPES.get(status, "http-error"), detail, headers=headers,
                                errors=field_errors)

    def _register_responses(self) -> None:
        # As flask-smorest does, but documented with the problem+json media type we send.
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def handle_engine_error(error: errors.EngineError) -> Any:
    for cls in type(error).__mro__:
        if cls in ENGINE_ERRORS:
            status, slug = ENGINE_ERRORS[cls]  # type: ignore[index]
            break
    if not wants_problem():
        return error.message, status
    headers = {}
    if isinstance(error, errors.RateLimitedError):
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, errors.AuthenticationError):
        headers["WWW-Authenticate"] = 'Bearer realm="ketenregie"'
    problems = [p.as_dict() for p in error.problems] or None
    field_errors = None
    if isinstance(error, errors.InvalidInputError) and error.problems:
        field_errors = [{"field": p.element or "body", "message": p.message} for p in error.problems]
        problems = None
    return problem_response(status, slug, error.message, headers=headers, problems=problems, errors=field_errors)


def refuse_nul_characters() -> Any:
    """PostgreSQL cannot store a NUL character in text (SQLite can): refuse it at the door, for the
    API and the pages alike, so input never behaves differently per database or turns into a 500."""
    body = request.get_data(cache=True)
    if "\x00" in request.path or "\x00" in request.query_string.decode("utf-8", "replace").replace("%00", "\x00") \
            or b"\x00" in body or b"\\u0000" in body.lower():
        detail = "Text may not contain NUL characters (U+0000)."
        if wants_problem():
            return problem_response(422, "validation", detail, errors=[{"field": "body", "message": detail}])
        return detail, 422
    return None


def handle_stale_data(error: Exception) -> Any:
    # Optimistic locking: another request changed the case between our read and our write.
    from api.extensions import db

    db.session.rollback()
    return problem_response(409, "conflict", "The case was changed at the same time; nothing was applied. "
                            "Reload and try again.")


def handle_operational_error(error: Exception) -> Any:
    from api.extensions import db
    from engine.db import is_write_conflict

    db.session.rollback()
    if is_write_conflict(error):
        return handle_stale_data(error)
    return handle_unexpected_error(error)


def handle_unexpected_error(error: Exception) -> Any:
    if isinstance(error, HTTPException):
        return error
    log.exception("unhandled error on %s %s", request.method, request.path)
    from api.extensions import db

    db.session.rollback()
    if not wants_problem():
        return "Er ging iets mis aan onze kant.", 500
    return problem_response(500, "internal", "Something went wrong on our side. It has been logged.")
