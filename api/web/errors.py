"""Error answers of the pages: a Dutch HTML page, or small JSON for the scripts that submit data.

Registered per blueprint, so the REST API keeps its problem+json handlers untouched.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from api.extensions import db
from api.problems import ENGINE_ERRORS
from api.web.messages import diagram_heading, dutch, for_error
from engine.errors import EngineError, InvalidInputError

_HTTP_MESSAGES = {
    400: "Het verzoek is niet goed ontvangen.",
    403: "Je hebt geen toegang tot deze pagina of handeling.",
    404: "Deze pagina bestaat niet.",
    405: "Deze handeling kan hier niet.",
    409: "Dit is intussen gewijzigd; je handeling is niet uitgevoerd. Vernieuw de pagina.",
    413: "Wat je stuurt is te groot.",
    415: "Wat je stuurt heeft niet de verwachte vorm.",
}
_TITLES = {400: "Ongeldig verzoek", 403: "Geen toegang", 404: "Niet gevonden", 409: "Gewijzigd", 413: "Te groot",
           422: "Niet geldig"}


def wants_json() -> bool:
    """The page scripts ask for JSON (fetch with Accept: application/json); browsers ask for HTML."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" or request.is_json


def error_response(status: int, message: str, **extra: Any) -> Any:
    if request.headers.get("HX-Request"):
        # htmx does not swap error answers; static/js/app.js shows this text in the page's alert area.
        return message, status, {"Content-Type": "text/plain; charset=utf-8"}
    if wants_json():
        return jsonify(message=message, **extra), status
    return render_template("web/error.html", status=status, title=_TITLES.get(status, "Fout"),
                           message=message), status


def status_of(error: EngineError) -> int:
    for cls in type(error).__mro__:
        if cls in ENGINE_ERRORS:
            return ENGINE_ERRORS[cls][0]  # type: ignore[index]
    return 400


def field_errors(error: InvalidInputError) -> list[dict[str, str]]:
    """[{field, message}] in Dutch; a form field arrives as `data.<key>` and leaves as `<key>`."""
    rows = []
    for problem in error.problems:
        field = problem.element or ""
        rows.append({"field": field.removeprefix("data."), "message": dutch(problem.message)})
    return rows


def _engine_error(error: EngineError) -> Any:
    db.session.rollback()  # Nothing half-done survives a refused action.
    extra: dict[str, Any] = {}
    if isinstance(error, InvalidInputError) and error.problems:
        extra["errors"] = field_errors(error)
    elif error.problems:
        # Diagram and form problems: the heading is Dutch, the detail stays as the engine wrote it.
        extra["problems"] = [{**p.as_dict(), "heading": diagram_heading(p.code)} for p in error.problems]
    return error_response(status_of(error), for_error(error), **extra)


def _csrf_error(error: CSRFError) -> Any:
    return error_response(400, "De pagina was verlopen. Vernieuw de pagina en probeer het opnieuw.")


def _stale(error: Exception) -> Any:
    db.session.rollback()
    return error_response(409, _HTTP_MESSAGES[409])


def _http_error(error: HTTPException) -> Any:
    status = error.code or 500
    return error_response(status, _HTTP_MESSAGES.get(status, "Er ging iets mis met dit verzoek."))


def page_blueprint(name: str, url_prefix: str) -> Blueprint:
    """A Blueprint whose errors answer as Dutch pages (or JSON for the page scripts)."""
    blueprint = Blueprint(name, __name__, url_prefix=url_prefix)
    blueprint.register_error_handler(EngineError, _engine_error)
    blueprint.register_error_handler(CSRFError, _csrf_error)
    blueprint.register_error_handler(StaleDataError, _stale)
    blueprint.register_error_handler(HTTPException, _http_error)
    return blueprint
