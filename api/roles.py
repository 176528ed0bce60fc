"""Role mappings: which organisation receives the tasks of each lane or candidate group."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint

from api.auth import current_actor
from api.extensions import db
from api.guards import require_role
from engine import roles
from engine.models import Organisation, Role

blp = Blueprint("roles", __name__, url_prefix="/roles", description="Lane and candidate-group routing")


class RoleMappingSchema(ma.Schema):
    role = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    organisation = ma.fields.String(allow_none=True, load_default=None, validate=ma.validate.Length(max=200),
                                    metadata={"description": "A fixed organisation (by name)"})
    case_role = ma.fields.String(allow_none=True, load_default=None, validate=ma.validate.Length(max=100),
                                 metadata={"description": "Or a case role: melder, casusregisseur, ..."})


class RoleMappingsSchema(ma.Schema):
    mappings = ma.fields.List(ma.fields.Nested(RoleMappingSchema), required=True,
                              validate=ma.validate.Length(max=500))


def _all() -> dict[str, Any]:
    names = {o.id: o.name for o in db.session.scalars(db.select(Organisation))}
    return {"mappings": [roles.describe(r, names) for r in roles.list_role_mappings(db.session)]}


@blp.route("", methods=["GET"])
@blp.response(200, RoleMappingsSchema)
def read_roles() -> dict[str, Any]:
    """Every role mapping."""
    return _all()


@blp.route("", methods=["PUT"])
@blp.arguments(RoleMappingsSchema)
@blp.response(200, RoleMappingsSchema)
@blp.alt_response(403, description="Only administrators change role mappings")
@blp.alt_response(422, description="A mapping is invalid; nothing was changed")
def replace_roles(body: dict[str, Any]) -> dict[str, Any]:
    """Replace all role mappings at once."""
    require_role(current_actor(), Role.ADMIN)
    roles.replace_role_mappings(db.session, [roles.RoleMappingInput(**m) for m in body["mappings"]])
    db.session.commit()
    return _all()
