"""The covenant as policy: which organisation kind may read and write which category of case data.

Default deny: a category, or a field without one, that the covenant does not grant is shielded.
Each loaded version of the covenant file is stored with who loaded it and when.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine import coherence
from engine.accounts import Actor
from engine.clock import utcnow
from engine.db import Base
from engine.errors import InvalidInputError, NotFoundError, PermissionDeniedError, Problem
from engine.forms import fields as form_fields
from engine.models import OrganisationKind

SHIELDED = "[afgeschermd]"
_ISO_DURATION = re.compile(r"^P(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?$")


class CovenantVersion(Base):
    """One version of the covenant as loaded, with who loaded it and when (the policy's own history)."""

    __tablename__ = "covenant_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(50))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    content: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(300))
    loaded_at: Mapped[datetime]
    loaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


@dataclass(frozen=True)
class Grant:
    read: bool
    write: bool
    ground: str


@dataclass(frozen=True)
class Covenant:
    version: str
    purpose: str
    categories: Mapping[str, str]  # key -> label
    special: Mapping[str, str]  # key -> "AVG art. 9" / "AVG art. 10"
    grants: Mapping[str, Mapping[str, Grant]]  # organisation kind -> category -> grant
    fields: Mapping[str, str]  # field key -> category, for data without a form
    retention: Mapping[str, str]  # case result -> ISO 8601 duration ("standaard" for the rest)
    sha256: str = ""
    meeting_members: frozenset[str] = frozenset()  # organisation kinds that sit in the casusoverleg

    def attends_meeting(self, kind: OrganisationKind | str) -> bool:
        return str(OrganisationKind(kind).value) in self.meeting_members

    def grant(self, kind: OrganisationKind | str, category: str | None) -> Grant | None:
        if category is None:
            return None
        return self.grants.get(str(OrganisationKind(kind).value), {}).get(category)

    def may_read(self, kind: OrganisationKind | str, category: str | None) -> bool:
        grant = self.grant(kind, category)
        return grant is not None and grant.read

    def may_write(self, kind: OrganisationKind | str, category: str | None) -> bool:
        grant = self.grant(kind, category)
        return grant is not None and grant.write


@dataclass
class Disclosure:
    """Case data as one organisation may see it: visible values, and which fields were shielded."""

    values: dict[str, Any] = field(default_factory=dict)
    shielded: list[str] = field(default_factory=list)
    categories: set[str] = field(default_factory=set)


def parse_covenant(text: str) -> Covenant:
    """Parse and check a covenant file; raise InvalidInputError listing every problem."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidInputError(f"The covenant is not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise InvalidInputError("The covenant must be a mapping with versie, categorieen and toegang.")
    problems: list[Problem] = []
    categories = raw.get("categorieen") or {}
    if not isinstance(categories, dict) or not categories:
        problems.append(Problem("List the data categories under 'categorieen'.", "categorieen"))
        categories = {}
    grants: dict[str, dict[str, Grant]] = {}
    kinds = {k.value for k in OrganisationKind}
    for kind, rules in (raw.get("toegang") or {}).items():
        if kind not in kinds:
            problems.append(Problem(f"Unknown organisation kind {kind!r}.", f"toegang.{kind}"))
            continue
        grants[kind] = {}
        for category, rule in (rules or {}).items():
            where = f"toegang.{kind}.{category}"
            if category not in categories:
                problems.append(Problem(f"Unknown category {category!r}.", where))
            elif not isinstance(rule, dict) or not str(rule.get("grond") or "").strip():
                problems.append(Problem("Every permission needs its legal ground ('grond').", where))
            else:
                grants[kind][category] = Grant(bool(rule.get("lezen")), bool(rule.get("schrijven")),
                                               str(rule["grond"]).strip())
    fields = {str(k): str(v) for k, v in (raw.get("velden") or {}).items()}
    problems += [Problem(f"Unknown category {v!r}.", f"velden.{k}") for k, v in fields.items() if v not in categories]
    retention = {str(k): str(v) for k, v in (raw.get("bewaartermijnen") or {}).items()}
    problems += [Problem("Not an ISO 8601 duration such as P5Y.", f"bewaartermijnen.{k}")
                 for k, v in retention.items() if not _ISO_DURATION.match(v) or v == "P"]
    if "standaard" not in retention:
        problems.append(Problem("Give a default retention period ('standaard').", "bewaartermijnen"))
    meeting = raw.get("casusoverleg") or {}
    members = meeting.get("leden") or [] if isinstance(meeting, dict) else None
    if not isinstance(members, list):
        problems.append(Problem("List the organisation kinds under 'casusoverleg: leden'.", "casusoverleg"))
        members = []
    problems += [Problem(f"Unknown organisation kind {m!r}.", "casusoverleg.leden") for m in members if m not in kinds]
    if not str(raw.get("versie") or "").strip():
        problems.append(Problem("The covenant needs a version ('versie').", "versie"))
    if problems:
        raise InvalidInputError("The covenant is not valid; nothing was changed.", problems=problems)
    return Covenant(
        version=str(raw["versie"]), purpose=str(raw.get("doel") or ""),
        categories={k: str((v or {}).get("label", k)) for k, v in categories.items()},
        special={k: str(v["bijzonder"]) for k, v in categories.items() if (v or {}).get("bijzonder")},
        grants=grants, fields=fields, retention=retention,
        sha256=hashlib.sha256(text.encode()).hexdigest(), meeting_members=frozenset(str(m) for m in members),
    )


_cache: dict[str, Covenant] = {}
_lock = threading.Lock()


def load_covenant(session: Session, *, text: str, source: str, actor: Actor | None = None) -> CovenantVersion:
    """Store a covenant version if its content is new (recording who and when); return the stored row.

    Refused (InvalidInputError listing each item) when the new version would break running work:
    see engine.coherence.running_work_conflicts."""
    covenant = parse_covenant(text)
    existing = session.scalar(select(CovenantVersion).where(CovenantVersion.sha256 == covenant.sha256))
    if existing is not None:
        return existing
    broken = coherence.running_work_conflicts(session, covenant)
    if broken:
        raise InvalidInputError(
            f"Covenant {covenant.version} would break running work ({len(broken)} problem(s)); nothing was "
            "changed. Finish or move that work, or adjust the covenant.", problems=broken)
    row = CovenantVersion(version=covenant.version, sha256=covenant.sha256, content=text, source=source[:300],
                          loaded_at=utcnow(), loaded_by_id=actor.user_id if actor else None)
    session.add(row)
    session.flush()
    return row


def load_covenant_file(session: Session, path: str | Path, actor: Actor | None = None) -> CovenantVersion:
    return load_covenant(session, text=Path(path).read_text(encoding="utf-8"), source=str(path), actor=actor)


def current_version(session: Session) -> CovenantVersion:
    row = session.scalar(select(CovenantVersion).order_by(CovenantVersion.id.desc()).limit(1))
    if row is None:
        raise NotFoundError("No covenant has been loaded: nothing about a case may be shared.")
    return row


def current_covenant(session: Session) -> Covenant:
    row = current_version(session)
    cached = _cache.get(row.sha256)
    if cached is None:
        with _lock:
            cached = _cache.setdefault(row.sha256, parse_covenant(row.content))
    return cached


def categories_of_form(definition: Mapping[str, Any] | None) -> dict[str, str | None]:
    """field key -> category, from each form-js component's custom property `categorie`."""
    if not definition:
        return {}
    return {c["key"]: (c.get("properties") or {}).get("categorie") for c in form_fields(definition)}


def uncategorised_form_fields(definition: Mapping[str, Any], covenant: Covenant) -> list[Problem]:
    problems = []
    for key, category in categories_of_form(definition).items():
        if category is None:
            problems.append(Problem(f"Field {key!r} has no data category (custom property 'categorie').", key))
        elif category not in covenant.categories:
            problems.append(Problem(f"Field {key!r} has category {category!r}, which the covenant does not know.",
                                    key))
    return problems


def categorise_start_data(covenant: Covenant, data: Mapping[str, Any]) -> dict[str, str]:
    """Categories for data that enters without a form; a field the covenant does not list is refused."""
    unknown = [k for k in data if k not in covenant.fields]
    if unknown:
        raise InvalidInputError(
            "Some fields have no data category in the covenant, so they cannot be stored.",
            problems=[Problem("No data category in the covenant ('velden').", f"data.{k}") for k in unknown],
        )
    return {k: covenant.fields[k] for k in data}


def check_write(
    covenant: Covenant, kind: OrganisationKind, categories: Mapping[str, str | None],
    values: Mapping[str, Any] | None = None,
) -> None:
    """Refuse fields `kind` may not write. With `values`, a field left empty is not a write: a form
    submits every field, also those meant for another partner (e.g. an action's care report)."""
    denied = [k for k, c in categories.items()
              if not covenant.may_write(kind, c) and (values is None or not is_empty(values.get(k)))]
    if denied:
        raise PermissionDeniedError(
            "The covenant does not allow your organisation to record these fields.",
            problems=[Problem(f"Category {categories[k]!r} may not be written by a {kind.value}.", f"data.{k}")
                      for k in denied],
        )


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def category_of(covenant: Covenant, key: str, recorded: str | None) -> str | None:
    """The field dictionary decides a field's category; otherwise the one recorded with the data.

    Deploying refuses forms that contradict the dictionary, so the two differ only for data recorded
    before a covenant version corrected a category: the covenant in force then wins.
    """
    return covenant.fields.get(key) or recorded


def disclose(
    covenant: Covenant, kind: OrganisationKind, values: Mapping[str, Any] | None,
    categories: Mapping[str, str | None] | None,
) -> Disclosure:
    """Only what `kind` may read; every other field is named in `shielded`, its value left out."""
    out = Disclosure()
    for key, value in (values or {}).items():
        category = category_of(covenant, key, (categories or {}).get(key))
        if covenant.may_read(kind, category):
            out.values[key] = value
            if category:
                out.categories.add(category)
        else:
            out.shielded.append(key)
    return out

