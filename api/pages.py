"""Server-rendered pages (Dutch): login, logout and the home page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_login import login_required, login_user, logout_user
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


@login_manager.user_loader
def load_user(user_id: str) -> _FlaskLoginUser | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return _FlaskLoginUser(user) if user is not None and user.active else None


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
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 422
    return render_template("login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    logout_user()
    flash("Je bent uitgelogd.", "info")
    return redirect(url_for("pages.login"))


@bp.route("/")
@login_required
def home() -> Any:
    return render_template("home.html")


def _safe_next(target: str | None) -> str:
    # Only redirect within this site, so a crafted login link cannot send people elsewhere.
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
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
    app.register_blueprint(bp)
