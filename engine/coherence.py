"""Coherence of the covenant with the forms and diagrams: every organisation that can receive a task
may write what the task requires, and no form contradicts the covenant's field dictionary.

Checked at deploy time, when the case meeting picks a casusregisseur or gives out actions, when a new
covenant version is loaded (nothing running may break), and on demand (`flask --app api check-covenant`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import InvalidInputError, Problem
from engine.forms import fields as form_fields
from engine.forms import normalise_form_key
from engine.models import (
    Case,
    CaseRoleAssignment,
    CaseStatus,
    Organisation,
    ProcessVersion,
    WorkItem,
    WorkItemKind,
    WorkItemStatus,
)
from engine.roles import CASUSREGISSEUR, MELDER, role_targets
from engine.routing import ORGANISATION_PROPERTIES, CaseRole, FixedOrganisation, RoleTarget, role_key

if TYPE_CHECKING:  # engine.covenant calls in here when a new version is loaded
    from engine.covenant import Covenant

# The tasks an organisation receives when the case meeting gives it an action: those whose organisation
# is named in their own data (see engine.routing.organisation_from_data).
ACTION = "actie"
RUNNING = (CaseStatus.ACTIVE, CaseStatus.SUSPENDED, CaseStatus.ERROR)


@dataclass(frozen=True)
class TaskRef:
    """What the checks need of a human task, from a parsed diagram or a deployed version's summary."""

    element: str
    title: str
    lane: str | None
    candidate_groups: tuple[str, ...]
    form_key: str | None
    properties: Mapping[str, str]
    line: int | None

    @classmethod
    def of(cls, task: Any) -> TaskRef:
        get = task.get if isinstance(task, Mapping) else (lambda name: getattr(task, name, None))
        return cls(str(get("spec_name")), str(get("title") or get("spec_name")), get("lane"),
                   tuple(get("candidate_groups") or ()), get("form_key"), dict(get("properties") or {}),
                   get("line"))

    @property
    def by_data(self) -> bool:
        return any(self.properties.get(p) for p in ORGANISATION_PROPERTIES)


@dataclass(frozen=True)
class Conflict:
    """One way the covenant, a form and a diagram contradict each other, in words for a process owner."""

    message: str
    element: str | None = None
    line: int | None = None
    code: str = "covenant_conflict"

    def problem(self, element: str | None = None) -> Problem:
        return Problem(self.message, element=element or self.element, line=self.line, code=self.code)


def required_fields(definition: Mapping[str, Any] | None) -> dict[str, str | None]:
    """field key -> category of the fields a form requires (a required checkbox must be checked)."""
    return {c["key"]: (c.get("properties") or {}).get("categorie") for c in form_fields(definition or {})
            if (c.get("validate") or {}).get("required")}


def unwritable(covenant: Covenant, kind: Any, definition: Mapping[str, Any] | None) -> list[tuple[str, str | None]]:
    """(field, category) of each required field of the form that `kind` may not write."""
    return [(key, category) for key, category in required_fields(definition).items()
            if not covenant.may_write(kind, category)]


def dictionary_conflicts(covenant: Covenant, task: TaskRef, definition: Mapping[str, Any] | None) -> list[Conflict]:
    """Fields of the task's form whose category differs from the field dictionary's for that name."""
    out = []
    for component in form_fields(definition or {}):
        key = component.get("key")
        category = (component.get("properties") or {}).get("categorie")
        expected = covenant.fields.get(key) if isinstance(key, str) else None
        if expected is not None and category != expected:
            out.append(Conflict(
                f"Task '{task.title}', form '{task.form_key}': field {key!r} has category {category!r}, but the "
                f"covenant's field dictionary (velden) says {expected!r}.", task.element, task.line,
                "category_mismatch"))
    return out


def organisation_conflicts(
    covenant: Covenant, organisation: Organisation, tasks: Iterable[TaskRef], forms: Mapping[str, Any], *, as_: str,
) -> list[Conflict]:
    """Why `organisation` could not complete the tasks it would receive as `as_` (a role or 'actie')."""
    out = []
    for task in tasks:
        definition = forms.get(normalise_form_key(task.form_key)) if task.form_key else None
        for key, category in unwritable(covenant, organisation.kind, definition):
            out.append(Conflict(
                f"{organisation.name} ({organisation.kind.value}) cannot complete task '{task.title}' as {as_}: "
                f"required field {key!r} has category {category!r}, which the covenant does not let a "
                f"{organisation.kind.value} write.", task.element, task.line, "cannot_complete"))
    return out


def _target_of(task: TaskRef, targets: Mapping[str, RoleTarget]) -> RoleTarget | None:
    # As routing does: candidate groups first, else the lane; the first mapped role decides.
    roles = [g for g in task.candidate_groups if g.strip()] or ([task.lane] if task.lane else [])
    return next((targets[role_key(r)] for r in roles if role_key(r) in targets), None)


def tasks_for(tasks: Iterable[TaskRef], targets: Mapping[str, RoleTarget], as_: str) -> list[TaskRef]:
    """The tasks that go to the case role `as_`, or to the action organisations for ACTION."""
    if as_ == ACTION:
        return [t for t in tasks if t.by_data]
    wanted = role_key(as_)
    return [t for t in tasks if not t.by_data and isinstance(target := _target_of(t, targets), CaseRole)
            and role_key(target.name) == wanted]


def fixed_organisation_conflicts(
    session: Session, covenant: Covenant, tasks: Iterable[TaskRef], forms: Mapping[str, Any],
    targets: Mapping[str, RoleTarget],
) -> list[Conflict]:
    """Tasks routed to a fixed organisation whose kind may not write a required field."""
    out = []
    for task in tasks:
        target = None if task.by_data else _target_of(task, targets)
        if isinstance(target, FixedOrganisation):
            organisation = session.get(Organisation, target.organisation_id)
            if organisation is not None:
                out += organisation_conflicts(covenant, organisation, [task], forms, as_="its fixed organisation")
    return out


def check_deployment(
    session: Session, covenant: Covenant, human_tasks: Sequence[Any], forms: Mapping[str, Any],
    targets: Mapping[str, RoleTarget],
) -> list[Problem]:
    """What deploying these tasks with these forms would contradict in the covenant (empty: fine)."""
    tasks = [TaskRef.of(t) for t in human_tasks]
    conflicts = [c for t in tasks if t.form_key
                 for c in dictionary_conflicts(covenant, t, forms.get(normalise_form_key(t.form_key)))]
    conflicts += fixed_organisation_conflicts(session, covenant, tasks, forms, targets)
    return [c.problem() for c in dict.fromkeys(conflicts)]


def check_case_role(
    session: Session, covenant: Covenant, version: ProcessVersion, organisation: Organisation, as_: str,
    targets: Mapping[str, RoleTarget], *, field: str,
) -> list[Problem]:
    """Problems (at `field`) when `organisation` could not complete what it would receive as `as_` in a
    case of `version` (with its called processes)."""
    tasks = tasks_for([TaskRef.of(t) for t in version.human_tasks or []], targets, as_)
    return [c.problem(field) for c in organisation_conflicts(covenant, organisation, tasks, version.forms or {},
                                                              as_=as_)]


def refuse(problems: list[Problem], what: str) -> None:
    if problems:
        raise InvalidInputError(f"{what}: the covenant does not let this organisation do the work it would "
                                "receive; nothing was recorded.", problems=problems)


# ---------------------------------------------------------------------------------------------
# Whole-installation checks: a new covenant version, and `check-covenant`
# ---------------------------------------------------------------------------------------------

def relevant_versions(session: Session) -> list[ProcessVersion]:
    """The newest version of every process, and every older one that still has running cases."""
    newest = select(ProcessVersion.process_key, func.max(ProcessVersion.version).label("v")) \
        .group_by(ProcessVersion.process_key).subquery()
    ids = set(session.scalars(select(ProcessVersion.id).join(
        newest, (ProcessVersion.process_key == newest.c.process_key) & (ProcessVersion.version == newest.c.v))))
    ids |= set(session.scalars(select(Case.process_version_id).where(Case.status.in_(RUNNING)).distinct()))
    if not ids:
        return []
    return list(session.scalars(select(ProcessVersion).where(ProcessVersion.id.in_(ids))
                                .order_by(ProcessVersion.process_key, ProcessVersion.version)))


def running_work_conflicts(session: Session, covenant: Covenant) -> list[Problem]:
    """What `covenant` would break in running work: deployed forms against its field dictionary, open
    work items their organisation could no longer complete, casusregisseurs who could no longer direct."""
    problems: list[Problem] = []
    for version in relevant_versions(session):
        where = f"{version.process_key} v{version.version}"
        seen: set[tuple[str, str | None]] = set()
        for task in (TaskRef.of(t) for t in version.human_tasks or []):
            if task.form_key and (task.form_key, task.element) not in seen:
                seen.add((task.form_key, task.element))
                definition = (version.forms or {}).get(normalise_form_key(task.form_key))
                problems += [Problem(f"{where}: {c.message}", f"{version.process_key}.{task.element}", c.line,
                                     c.code) for c in dictionary_conflicts(covenant, task, definition)]
    items = session.execute(
        select(WorkItem, Organisation, Case).join(Organisation, WorkItem.organisation_id == Organisation.id)
        .join(Case, WorkItem.case_id == Case.id)
        .where(WorkItem.status == WorkItemStatus.OPEN, WorkItem.kind == WorkItemKind.TASK)
        .order_by(WorkItem.id)
    )
    for item, organisation, case in items:
        definition = (case.process_version.forms or {}).get(normalise_form_key(item.form_key)) \
            if item.form_key else None
        for key, category in unwritable(covenant, organisation.kind, definition):
            problems.append(Problem(
                f"Open work item '{item.title}' of case {case.reference}: {organisation.name} "
                f"({organisation.kind.value}) could no longer write required field {key!r} ({category!r}).",
                f"work_items.{item.id}", code="open_work_item"))
    problems += case_role_holders_conflicts(session, covenant)
    return problems


def case_role_holders_conflicts(session: Session, covenant: Covenant) -> list[Problem]:
    """Casusregisseurs and melders of running cases who could not complete their role's tasks."""
    targets = role_targets(session)
    rows = session.execute(
        select(CaseRoleAssignment, Organisation, Case)
        .join(Organisation, CaseRoleAssignment.organisation_id == Organisation.id)
        .join(Case, CaseRoleAssignment.case_id == Case.id)
        .where(Case.status.in_(RUNNING), CaseRoleAssignment.case_role.in_((CASUSREGISSEUR, MELDER)))
        .order_by(Case.id, CaseRoleAssignment.case_role)
    )
    problems = []
    for assignment, organisation, case in rows:
        where = f"cases.{case.reference}.{assignment.case_role}"
        for problem in check_case_role(session, covenant, case.process_version, organisation,
                                       assignment.case_role, targets, field=where):
            problems.append(Problem(f"Case {case.reference}: {problem.message}", problem.element,
                                    problem.line, "case_role"))
    return problems


def installation_conflicts(session: Session, covenant: Covenant) -> list[Problem]:
    """Every conflict between `covenant`, the deployed diagrams, their forms and the organisations:
    running work as above, fixed-organisation tasks, and every organisation the case meeting may choose
    as casusregisseur or give an action that could not complete those tasks."""
    targets = role_targets(session)
    problems = running_work_conflicts(session, covenant)
    organisations = list(session.scalars(select(Organisation).order_by(Organisation.name)))
    for version in relevant_versions(session):
        where = f"{version.process_key} v{version.version}"
        tasks = [TaskRef.of(t) for t in version.human_tasks or []]
        forms = version.forms or {}
        found = fixed_organisation_conflicts(session, covenant, tasks, forms, targets)
        for as_ in (CASUSREGISSEUR, ACTION):
            chosen = tasks_for(tasks, targets, as_)
            for organisation in organisations if chosen else []:
                found += organisation_conflicts(covenant, organisation, chosen, forms, as_=as_)
        problems += [Problem(f"{where}: {c.message}", f"{version.process_key}.{c.element}", c.line, c.code)
                     for c in dict.fromkeys(found)]
    return list(dict.fromkeys(problems))


def forms_dictionary_conflicts(covenant: Covenant, forms: Mapping[str, Mapping[str, Any]]) -> list[Problem]:
    """Forms on disk (forms/) whose fields contradict the field dictionary, deployed or not."""
    problems = []
    for name, definition in sorted(forms.items()):
        task = TaskRef(name, name, None, (), name, {}, None)
        problems += [Problem(c.message.replace(f"Task '{name}', form", "Form"), f"forms.{name}", None, c.code)
                     for c in dictionary_conflicts(covenant, task, definition)]
    return problems
