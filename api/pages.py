"""Server-rendered pages (Dutch): login, logout and the home page, and the lifetime of a page session.

A session cookie carries the user's session epoch, the login time and the time last seen. It logs
in only while the epoch matches the user's (logout and deactivation bump it, so a copied cookie
dies server-side), within the idle timeout and within the absolute timeout.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from api.extensions import db, login_manager
from engine import accounts
from engine.errors import AuthenticationError, RateLimitedError
from engine.models import User

bp = Blueprint("pages", __name__)


class LoginForm(FlaskForm):
    username = StringField("Gebruikersnaam", validators=[DataRequired("Vul je gebruikersnaam in."), Length(max=150)])
    password = PasswordField("Wachtwoord", validators=[DataRequired("Vul je wachtwoord in."), Length(max=1024)])


SESSION_KEYS = ("epoch", "login_at", "seen_at")


@login_manager.user_loader
def load_user(user_id: str) -> _FlaskLoginUser | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.active or not _session_is_current(user):
        return None
    session["seen_at"] = int(time.time())
    return _FlaskLoginUser(user)


def _session_is_current(user: User) -> bool:
    now = time.time()
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
    absolute = current_app.config["SESSION_MAX_HOURS"] * 3600
    epoch, login_at, seen_at = (session.get(key) for key in SESSION_KEYS)
    current = (
        epoch == user.session_epoch and isinstance(login_at, int) and isinstance(seen_at, int)
        and now - seen_at < idle and now - login_at < absolute
    )
    if not current:
        for key in SESSION_KEYS:
            session.pop(key, None)
        session.pop("_user_id", None)
    return current


def _unauthorized() -> Any:
    # Back to the login page, which returns to this page afterwards. Only a GET can be repeated.
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(url_for("pages.login", next=target))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(
                db.session, username=form.username.data or "", password=form.password.data or "",
                address=request.remote_addr,
            )
        except AuthenticationError:
            db.session.commit()  # Keep the recorded failure: it feeds the throttle.
            flash("Onbekende gebruiker of onjuist wachtwoord.", "error")
            status = 401
        except RateLimitedError as error:
            flash(f"Te veel mislukte pogingen. Probeer het over {error.retry_after} seconden opnieuw.", "error")
            status = 429
        else:
            db.session.commit()
            login_user(_FlaskLoginUser(user))
            now = int(time.time())
            session.update(epoch=user.session_epoch, login_at=now, seen_at=now)
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 422
    return render_template("login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    if current_user.is_authenticated:
        # Ends every session of this user server-side, also a cookie copied before.
        accounts.end_sessions(db.session, current_user.user)
        db.session.commit()
    logout_user()
    for key in SESSION_KEYS:
        session.pop(key, None)
    flash("Je bent uitgelogd.", "info")
    return redirect(url_for("pages.login"))


@bp.route("/")
@login_required
def home() -> Any:
    return render_template("home.html")


def _safe_next(target: str | None) -> str:
    # Only a path on this site, so a crafted login link cannot send people elsewhere: no scheme or
    # host, no "//" or "/\\" (browsers read both as another host), no control characters.
    if target and target.startswith("/") and not target.startswith(("//", "/\\")) \
            and not urlsplit(target).netloc and not urlsplit(target).scheme \
            and "\\" not in target and target.isprintable():
        return target
    return url_for("pages.home")


class _FlaskLoginUser:
    """Adapter giving Flask-Login what it needs without teaching the engine's User about Flask."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        return str(self.user.id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.user, name)


def init_app(app: Flask) -> None:
    login_manager.login_view = "pages.login"
    login_manager.login_message = "Log in om deze pagina te zien."
    login_manager.login_message_category = "info"
    login_manager.unauthorized_handler(_unauthorized)
    app.register_blueprint(bp)
