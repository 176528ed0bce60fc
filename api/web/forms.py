"""Formulieren: the form-js forms in forms/, shown in the form-js editor and checked like a deploy would.

Read-only on the server on purpose: an edited form is downloaded and goes into forms/ through
version control. Writing files from a web request would bypass review, differ between workers and
machines, and change what the next deploy picks up without anyone seeing it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app, jsonify, render_template, request

from api.web.errors import error_response, page_blueprint
from api.web.guards import requires
from api.web.messages import dutch
from engine.errors import FormError
from engine.forms import check_form, fields, normalise_form_key
from engine.models import Role

bp = page_blueprint("web_forms", "/procesbeheer/formulieren")

FORM_SUFFIXES = (".form", ".json")
MAX_FORM_BYTES = 500_000


@dataclass(frozen=True)
class FormFile:
    name: str
    key: str
    definition: dict[str, Any] | None
    problems: list[str]

    @property
    def field_count(self) -> int:
        return len(fields(self.definition)) if self.definition else 0


def _directory() -> Path:
    return Path(current_app.config["FORMS_DIR"])


def _read(path: Path) -> FormFile:
    try:
        definition = json.loads(path.read_text(encoding="utf-8"))
        check_form(definition)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        return FormFile(path.name, normalise_form_key(path.name), None, [f"Geen geldige JSON: {error}"])
    except FormError as error:
        return FormFile(path.name, normalise_form_key(path.name), definition,
                        [dutch(p.message) for p in error.problems])
    return FormFile(path.name, normalise_form_key(path.name), definition, [])


def form_files() -> list[FormFile]:
    directory = _directory()
    if not directory.is_dir():
        return []
    return [_read(path) for path in sorted(directory.iterdir()) if path.suffix in FORM_SUFFIXES and path.is_file()]


@bp.get("")
@requires(Role.PROCESS_OWNER)
def form_list() -> Any:
    return render_template("web/form_list.html", forms=form_files(), directory=_directory())


@bp.get("/<string:name>")
@requires(Role.PROCESS_OWNER)
def form_editor(name: str) -> Any:
    # Only names from the directory listing are opened, so no path can point outside forms/.
    form = next((f for f in form_files() if f.name == name), None)
    if form is None:
        return error_response(404, "Dit formulier bestaat niet.")
    return render_template("web/form_editor.html", form=form)


@bp.post("/controleren")
@requires(Role.PROCESS_OWNER)
def check() -> Any:
    """JSON form definition in; whether a deploy would accept it out (200, or 422 with problems)."""
    if (request.content_length or 0) > MAX_FORM_BYTES:
        return error_response(413, "Dit formulier is te groot.")
    definition = request.get_json(silent=True)
    if definition is None:
        return error_response(400, "Het formulier is niet goed ontvangen.")
    check_form(definition)  # FormError -> 422 with problems (api/web/errors.py)
    return jsonify(message="Het formulier is geldig: sleutels zijn uniek en goed gevormd.",
                   fields=[c.get("key") for c in fields(definition)])
