"""Authentication: bearer tokens for the API (POST /auth/tokens, GET /me) and the actor of a request."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import marshmallow as ma
from flask import Flask, current_app, g, request
from flask_smorest import Blueprint

from api.extensions import db
from api.problems import problem_response
from api.schemas import OrganisationRefSchema
from engine import accounts
from engine.accounts import Actor
from engine.errors import AuthenticationError

F = TypeVar("F", bound=Callable[..., Any])

blp = Blueprint("auth", __name__, url_prefix="/auth", description="Log in for API access")
me_blp = Blueprint("me", __name__, url_prefix="/me", description="The logged-in user")


def public(view: F) -> F:
    """Mark an API view as reachable without a bearer token."""
    view._public = True  # type: ignore[attr-defined]
    return view


class TokenRequestSchema(ma.Schema):
    username = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=150))
    password = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=1024), load_only=True)


class TokenSchema(ma.Schema):
    token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True)
    expires_at = ma.fields.AwareDateTime(required=True)


class MeSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    username = ma.fields.String(required=True)
    full_name = ma.fields.String(required=True)
    organisation = ma.fields.Nested(OrganisationRefSchema, required=True)
    roles = ma.fields.List(ma.fields.String(), required=True)


@blp.route("/tokens", methods=["POST"])
@blp.arguments(TokenRequestSchema)
@blp.response(201, TokenSchema)
@blp.alt_response(401, description="Unknown user or wrong password (the same answer for both)")
@blp.alt_response(429, description="Too many failed logins")
@blp.doc(security=[])
@public
def create_token(credentials: dict[str, str]) -> dict[str, Any]:
    """Exchange a username and password for a bearer token."""
    try:
        user = accounts.authenticate(
            db.session, username=credentials["username"], password=credentials["password"],
            address=request.remote_addr,
        )
    except AuthenticationError:
        db.session.commit()  # Keep the recorded failure: it feeds the throttle.
        raise
    lifetime = timedelta(hours=current_app.config["TOKEN_LIFETIME_HOURS"])
    token, row = accounts.issue_token(db.session, user, lifetime=lifetime)
    db.session.commit()
    return {"token": token, "token_type": "Bearer", "expires_at": row.expires_at}


@blp.route("/tokens/current", methods=["DELETE"])
@blp.response(204)
def revoke_current_token() -> None:
    """Revoke the token this request was made with (log out)."""
    accounts.revoke_token(db.session, g.bearer_token)
    db.session.commit()


@me_blp.route("", methods=["GET"])
@me_blp.response(200, MeSchema)
def read_me() -> dict[str, Any]:
    """Who am I: user, organisation and roles."""
    user = g.user
    return {
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "organisation": {"id": user.organisation.id, "name": user.organisation.name, "kind": user.organisation.kind},
        "roles": sorted(user.roles),
    }


def current_actor() -> Actor:
    return g.actor  # type: ignore[no-any-return]


def _authenticate_api_request() -> Any:
    if not request.path.startswith("/api/") or request.routing_exception is not None:
        return None  # Unknown routes answer 404/405; pages use the session login.
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, "_public", False) or request.blueprint == "api-docs":
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    user = accounts.user_for_token(db.session, token.strip()) if scheme.lower() == "bearer" and token else None
    if user is None:
        return problem_response(
            401, "unauthenticated", "A valid bearer token is required.",
            headers={"WWW-Authenticate": 'Bearer realm="ketenregie"'},
        )
    g.user = user
    g.bearer_token = token.strip()
    g.actor = Actor.of(user)
    return None


def init_app(app: Flask) -> None:
    app.before_request(_authenticate_api_request)
