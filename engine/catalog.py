"""Process models: deploying BPMN diagrams as numbered versions, and the parsed-spec cache.

A version's BPMN source, parsed spec and referenced forms are stored once; cases only hold
their instance state. The parsed spec is deserialised once per version and process.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import coherence
from engine.accounts import Actor
from engine.bpmn import state
from engine.bpmn.parser import NSMAP, load_xml
from engine.bpmn.validation import validate_diagram
from engine.clock import utcnow
from engine.covenant import current_covenant, uncategorised_form_fields
from engine.errors import DiagramError, NotFoundError, Problem
from engine.forms import normalise_form_key
from engine.models import ProcessVersion
from engine.roles import role_targets
from engine.routing import is_known_role

_spec_cache: dict[tuple[int, str], tuple[Any, dict[str, Any]]] = {}
_spec_lock = threading.Lock()


def deploy_process(
    session: Session,
    *,
    xml: bytes,
    filename: str,
    forms: Mapping[str, Mapping[str, Any]],
    actor: Actor | None = None,
    extra_bpmn: Mapping[str, bytes] | None = None,
) -> tuple[ProcessVersion, bool]:
    """Validate and store a diagram as the next version of its process.

    Returns (version, created). The same content deployed again returns the existing version
    (created=False). Raises DiagramError listing every problem; nothing is stored then.
    """
    targets = role_targets(session)
    others = (
        dict(extra_bpmn) if extra_bpmn is not None
        else _newest_sources(session, replaced_by=xml, filename=filename)
    )
    parsed = validate_diagram(
        xml,
        filename=filename,
        role_is_known=lambda role: is_known_role(role, targets),
        form_exists=lambda key: normalise_form_key(key) in forms,
        extra_bpmn=others,
    )
    _check_covenant(session, parsed, forms, targets)
    digest = hashlib.sha256(xml).hexdigest()
    existing = session.scalar(
        select(ProcessVersion).where(ProcessVersion.process_key == parsed.process_id, ProcessVersion.sha256 == digest)
    )
    if existing is not None:
        return existing, False
    newest = session.scalar(
        select(func.max(ProcessVersion.version)).where(ProcessVersion.process_key == parsed.process_id)
    )
    used_forms = {normalise_form_key(t.form_key) for t in parsed.human_tasks if t.form_key}
    version = ProcessVersion(
        process_key=parsed.process_id,
        version=(newest or 0) + 1,
        name=parsed.name,
        filename=filename,
        bpmn_xml=xml.decode("utf-8"),
        sha256=digest,
        spec=state.dump_spec(parsed),
        forms={key: dict(forms[key]) for key in sorted(used_forms)},
        human_tasks=[_task_summary(t) for t in parsed.human_tasks],
        serializer_version=state.SERIALIZER_VERSION,
        deployed_at=utcnow(),
        deployed_by_id=actor.user_id if actor else None,
    )
    session.add(version)
    session.flush()
    return version, True


def _check_covenant(
    session: Session, parsed: Any, forms: Mapping[str, Mapping[str, Any]], targets: Mapping[str, Any]
) -> None:
    """Every field of every form the diagram uses must carry a data category the covenant knows, the
    same category as the covenant's field dictionary gives its name, and a task routed to a fixed
    organisation must ask only what that organisation's kind may write."""
    covenant = current_covenant(session)
    problems = []
    for task in parsed.human_tasks:
        if not task.form_key:
            continue
        for problem in uncategorised_form_fields(forms[normalise_form_key(task.form_key)], covenant):
            problems.append(Problem(f"Form '{task.form_key}' of task '{task.title}': {problem.message}",
                                    element=task.spec_name, line=task.line, code="uncategorised_field"))
    problems += coherence.check_deployment(session, covenant, parsed.human_tasks, forms, targets)
    if problems:
        raise DiagramError(f"{len(problems)} form field(s) or task(s) contradict the covenant.", problems=problems)


def deploy_directory(
    session: Session, directory: str | Path, *, forms: Mapping[str, Mapping[str, Any]]
) -> list[tuple[ProcessVersion, bool]]:
    """Deploy every *.bpmn file in `directory` (idempotent). Files may call each other's processes."""
    sources = {p.name: p.read_bytes() for p in sorted(Path(directory).glob("*.bpmn"))}
    results = []
    for name, xml in sources.items():
        others = {n: x for n, x in sources.items() if n != name}
        results.append(deploy_process(session, xml=xml, filename=name, forms=forms, extra_bpmn=others))
    return results


def _newest_sources(session: Session, *, replaced_by: bytes, filename: str) -> dict[str, bytes]:
    """The newest deployed source of every other process, for call activities across files.

    Sources defining a process that the new diagram defines too are left out: the new diagram
    replaces them, whatever file name it arrives under.
    """
    root = load_xml(replaced_by, filename)
    replaced = set(root.xpath("//bpmn:process/@id", namespaces=NSMAP))
    newest = (
        select(ProcessVersion.process_key, func.max(ProcessVersion.version).label("version"))
        .group_by(ProcessVersion.process_key)
        .subquery()
    )
    rows = session.execute(
        select(ProcessVersion.filename, ProcessVersion.bpmn_xml, ProcessVersion.process_key).join(
            newest,
            (ProcessVersion.process_key == newest.c.process_key) & (ProcessVersion.version == newest.c.version),
        )
    )
    return {name: xml.encode("utf-8") for name, xml, key in rows if key not in replaced and name != filename}


def _task_summary(task: Any) -> dict[str, Any]:
    summary = asdict(task)
    summary["properties"] = dict(task.properties)
    summary["candidate_groups"] = list(task.candidate_groups)
    return summary


def newest_version(session: Session, process_key: str) -> ProcessVersion:
    version = session.scalar(
        select(ProcessVersion)
        .where(ProcessVersion.process_key == process_key)
        .order_by(ProcessVersion.version.desc())
        .limit(1)
    )
    if version is None:
        raise NotFoundError(f"There is no process {process_key!r}.")
    return version


def get_version(session: Session, process_key: str, number: int) -> ProcessVersion:
    version = session.scalar(
        select(ProcessVersion).where(ProcessVersion.process_key == process_key, ProcessVersion.version == number)
    )
    if version is None:
        raise NotFoundError(f"Process {process_key!r} has no version {number}.")
    return version


def list_versions(session: Session) -> list[ProcessVersion]:
    return list(session.scalars(
        select(ProcessVersion).order_by(ProcessVersion.process_key, ProcessVersion.version)
    ))


def spec_for(version: ProcessVersion) -> tuple[Any, dict[str, Any]]:
    """The parsed spec of a version, deserialised once per process (versions never change)."""
    key = (version.id, version.sha256)
    cached = _spec_cache.get(key)
    if cached is not None:
        return cached
    with _spec_lock:
        if key not in _spec_cache:
            _spec_cache[key] = state.load_spec(version.spec)
        return _spec_cache[key]


def element_name(version: ProcessVersion, element_id: str | None) -> str | None:
    """The name the modeller gave an element of the version's own process (e.g. an end event)."""
    if not element_id:
        return None
    spec, _ = spec_for(version)
    task_spec = spec.task_specs.get(element_id)
    return (task_spec.bpmn_name or element_id) if task_spec is not None else None


def clear_spec_cache() -> None:
    """Forget cached specs (tests reuse database ids across runs)."""
    with _spec_lock:
        _spec_cache.clear()
