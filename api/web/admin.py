"""Beheer: organisations and users for administrators (list, create an organisation, create a user)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from api.extensions import db
from api.web.display import KIND_LABELS, ROLE_LABELS
from api.web.errors import page_blueprint
from api.web.guards import ROW_ID, requires
from api.web.messages import for_error
from engine import accounts
from engine.dashboard import organisations_with_users
from engine.errors import ConflictError, InvalidInputError, NotFoundError
from engine.models import Role

bp = page_blueprint("web_admin", "/beheer")

_EMAIL = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="Vul een geldig e-mailadres in.")


class OrganisationForm(FlaskForm):
    name = StringField("Naam", validators=[DataRequired("Geef de organisatie een naam."), Length(max=200)])
    kind = SelectField("Soort", choices=[SelectChoice(kind.value, label) for kind, label in KIND_LABELS.items()])
    email = StringField("E-mailadres voor meldingen", validators=[Optional(), Length(max=320), _EMAIL])


class UserForm(FlaskForm):
    username = StringField("Gebruikersnaam", validators=[DataRequired("Geef een gebruikersnaam."), Length(max=150)])
    full_name = StringField("Volledige naam", validators=[Optional(), Length(max=200)])
    email = StringField("E-mailadres", validators=[Optional(), Length(max=320), _EMAIL])
    organisation = SelectField("Organisatie", validators=[DataRequired("Kies een organisatie.")])
    roles = SelectMultipleField(
        "Rollen", choices=[SelectChoice(role.value, label) for role, label in ROLE_LABELS.items()],
        option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False),
        validators=[DataRequired("Kies minstens één rol.")],
    )
    password = PasswordField("Wachtwoord", validators=[
        DataRequired("Geef een wachtwoord."),
        Length(min=accounts.MIN_PASSWORD_LENGTH, max=1024,
               message=f"Het wachtwoord moet minstens {accounts.MIN_PASSWORD_LENGTH} tekens hebben."),
    ])
    password_again = PasswordField("Wachtwoord herhalen", validators=[
        EqualTo("password", message="De wachtwoorden zijn niet gelijk."),
    ])


def _forms() -> tuple[OrganisationForm, UserForm]:
    # Prefixes keep the two forms' fields apart: each POST validates only its own form.
    organisation_form, user_form = OrganisationForm(prefix="org"), UserForm(prefix="user")
    user_form.organisation.choices = [SelectChoice(o.name) for o, _ in organisations_with_users(db.session)]
    return organisation_form, user_form


def _page(organisation_form: OrganisationForm, user_form: UserForm, status: int = 200) -> Any:
    return render_template("web/admin.html", organisations=organisations_with_users(db.session),
                           organisation_form=organisation_form, user_form=user_form), status


@bp.get("")
@requires(Role.ADMIN)
def admin() -> Any:
    return _page(*_forms())


@bp.post("/organisaties")
@requires(Role.ADMIN)
def create_organisation() -> Any:
    organisation_form, user_form = _forms()
    if not organisation_form.validate_on_submit():
        return _page(organisation_form, user_form, 422)
    try:
        organisation = accounts.create_organisation(
            db.session, name=organisation_form.name.data or "", kind=organisation_form.kind.data or "",
            email=organisation_form.email.data or None,
        )
    except (InvalidInputError, ConflictError) as refused:
        db.session.rollback()
        organisation_form.name.errors = [for_error(refused)]
        return _page(organisation_form, user_form, 422)
    db.session.commit()
    flash(f"Organisatie ‘{organisation.name}’ is aangemaakt.", "info")
    return redirect(url_for("web_admin.admin"))


@bp.post("/gebruikers")
@requires(Role.ADMIN)
def create_user() -> Any:
    organisation_form, user_form = _forms()
    if not user_form.validate_on_submit():
        return _page(organisation_form, user_form, 422)
    try:
        user = accounts.create_user(
            db.session, username=user_form.username.data or "", password=user_form.password.data or "",
            organisation_name=user_form.organisation.data or "", roles=list(user_form.roles.data or []),
            full_name=user_form.full_name.data or "", email=user_form.email.data or None,
        )
    except (InvalidInputError, ConflictError, NotFoundError) as refused:
        db.session.rollback()
        user_form.username.errors = [for_error(refused)]
        return _page(organisation_form, user_form, 422)
    db.session.commit()
    flash(f"Gebruiker ‘{user.username}’ is aangemaakt bij {user.organisation.name}.", "info")
    return redirect(url_for("web_admin.admin"))


@bp.post(f"/gebruikers/<{ROW_ID}:user_id>/blokkeren")
@requires(Role.ADMIN)
def deactivate_user(user_id: int) -> Any:
    """Block a user: no logins or tokens any more, and their open sessions end at once."""
    user = accounts.deactivate_user(db.session, user_id=user_id)  # NotFoundError -> the 404 page
    db.session.commit()
    flash(f"Gebruiker ‘{user.username}’ is geblokkeerd.", "info")
    return redirect(url_for("web_admin.admin"))
