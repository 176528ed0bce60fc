"""Parses BPMN files (Camunda Modeler style included) into SpiffWorkflow specs with the spiff dialect.

Adds what the spiff dialect ignores: the Camunda attributes of human tasks (copied into
`task_spec.extensions` so they survive serialization) and plain ISO 8601 timer values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.mixins.manual_task import ManualTask as ManualTaskMixin
from SpiffWorkflow.bpmn.specs.mixins.none_task import NoneTask as NoneTaskMixin
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask as UserTaskMixin
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import SpiffTaskParser, UserTaskParser
from SpiffWorkflow.spiff.specs.defaults import ManualTask, NoneTask, UserTask

from engine.bpmn.event_gateway import EventBasedGateway
from engine.bpmn.joins import InclusiveGateway, ParallelGateway
from engine.bpmn.multiinstance import ParallelMultiInstanceTask, SequentialMultiInstanceTask
from engine.errors import DiagramError, Problem

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
NSMAP = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS}

# The Camunda attributes copied as they are (stripped); candidateGroups becomes a list.
_CAMUNDA_TEXT_ATTRIBUTES = ("formKey", "assignee", "dueDate", "followUpDate")
_TIMER_TAGS = ("timeDuration", "timeDate", "timeCycle")
# Task spec names SpiffWorkflow creates itself. An element with such an id is silently replaced by
# the internal spec (a start event with id "Start" makes the whole process empty), so refuse them.
RESERVED_IDS = frozenset({"Start", "End", "Root", "StartEventSplit", "StartEventJoin"})
_RESERVED_SUFFIXES = (".EndJoin", ".BoundaryEventSplit", ".BoundaryEventJoin", " [child]")

_NUMBER = r"\d+(?:[.,]\d+)?"
_ISO_DURATION = re.compile(
    rf"P(?=\d|T\d)(?:{_NUMBER}Y)?(?:{_NUMBER}M)?(?:{_NUMBER}W)?(?:{_NUMBER}D)?"
    rf"(?:T(?=\d)(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?"
)
_ISO_DATE_START = re.compile(r"\d{4}-?(?:\d{2}|W\d{2})")


# ---------------------------------------------------------------------------------------------
# ISO 8601 literals, as Camunda Modeler users type them
# ---------------------------------------------------------------------------------------------

def is_iso_duration(text: str) -> bool:
    return _ISO_DURATION.fullmatch(text) is not None


def is_iso_datetime(text: str) -> bool:
    if _ISO_DATE_START.match(text) is None:
        return False
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def is_iso_cycle(text: str) -> bool:
    if not re.fullmatch(r"R\d*/.+", text):
        return False
    parts = text.split("/")[1:]
    return len(parts) in (1, 2) and all(is_iso_duration(p) or is_iso_datetime(p) for p in parts)


def is_iso_literal(text: str) -> bool:
    return is_iso_duration(text) or is_iso_datetime(text) or is_iso_cycle(text)


def timer_expression(text: str | None) -> str | None:
    """The Python expression SpiffWorkflow should evaluate for a timer text.

    A plain ISO 8601 value (P14D, R3/PT10M, 2026-05-01T09:00:00+02:00) becomes a quoted string
    literal; anything else is already an expression and is returned unchanged. Idempotent.
    """
    if text is None:
        return None
    stripped = text.strip()
    return repr(stripped) if is_iso_literal(stripped) else text


def rewrite_timer_literals(root: etree._Element) -> None:
    """Quote plain ISO 8601 timer values in place, so SpiffWorkflow evaluates them as strings."""
    for tag in _TIMER_TAGS:
        for node in root.iter(f"{{{BPMN_NS}}}{tag}"):
            node.text = timer_expression(node.text)


# ---------------------------------------------------------------------------------------------
# Safe XML loading
# ---------------------------------------------------------------------------------------------

_DTD_MARKERS = tuple(
    text.encode(codec) for text in ("<!DOCTYPE", "<!ENTITY") for codec in ("utf-8", "utf-16-le")
)


def _line_of(xml: bytes, index: int) -> int:
    return xml.count(b"\n", 0, index) + 1


def load_xml(xml: bytes, filename: str) -> etree._Element:
    """Parse untrusted BPMN XML; refuse DTDs and entities outright (XXE, billion laughs)."""
    for marker in _DTD_MARKERS:
        index = xml.find(marker)
        if index >= 0:
            raise DiagramError(problems=[Problem(
                f"{filename} contains a DOCTYPE or ENTITY declaration; BPMN files must not have one.",
                line=_line_of(xml, index), code="doctype")])
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
                             dtd_validation=False)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        raise DiagramError(problems=[Problem(
            f"{filename} is not well-formed XML: {exc.msg}", line=exc.lineno, code="xml")]) from exc
    docinfo = root.getroottree().docinfo
    # Second line of defence for encodings the byte scan above does not recognise.
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise DiagramError(problems=[Problem(
            f"{filename} contains a DOCTYPE declaration; BPMN files must not have one.", code="doctype")])
    return root


# ---------------------------------------------------------------------------------------------
# Camunda attributes on human tasks
# ---------------------------------------------------------------------------------------------

def camunda_extensions(node: etree._Element) -> dict[str, Any]:
    """The Camunda attributes of a task element, as they are stored in `task_spec.extensions`."""
    extensions: dict[str, Any] = {}
    for name in _CAMUNDA_TEXT_ATTRIBUTES:
        value = node.get(f"{{{CAMUNDA_NS}}}{name}")
        if value is not None and value.strip():
            extensions[name] = value.strip()
    groups = node.get(f"{{{CAMUNDA_NS}}}candidateGroups")
    if groups is not None:
        extensions["candidateGroups"] = [g.strip() for g in groups.split(",") if g.strip()]
    properties = node.xpath("./bpmn:extensionElements/camunda:properties/camunda:property", namespaces=NSMAP)
    if properties:
        extensions["properties"] = {p.get("name"): p.get("value", "") for p in properties if p.get("name")}
    return extensions


class _CamundaAttributesMixin:
    node: etree._Element

    def parse_extensions(self, node: etree._Element | None = None) -> dict[str, Any]:
        extensions = super().parse_extensions(node)  # type: ignore[misc]
        if node is None or node is self.node:
            camunda = camunda_extensions(self.node)
            # spiffworkflow:properties and camunda:properties end up in one dict.
            properties = {**camunda.pop("properties", {}), **extensions.get("properties", {})}
            extensions.update(camunda)
            if properties:
                extensions["properties"] = properties
        return extensions


class HumanUserTaskParser(_CamundaAttributesMixin, UserTaskParser):
    """bpmn:userTask with its Camunda attributes."""


class HumanTaskParser(_CamundaAttributesMixin, SpiffTaskParser):
    """bpmn:manualTask and bpmn:task with their Camunda attributes.

    SpiffWorkflow's NoneTask (bpmn:task) is already `manual`, so it waits for a person like a user task.
    """


def _with_scoped_multi_instance(parser_class: type) -> type:
    """The task parser building our multi-instance specs (instance-scoped items, see multiinstance.py)."""
    if not issubclass(parser_class, TaskParser):
        return parser_class
    return type(parser_class.__name__, (parser_class,), {
        "PARALLEL_MI_CLASS": ParallelMultiInstanceTask, "SEQUENTIAL_MI_CLASS": SequentialMultiInstanceTask})


class KetenregieBpmnParser(SpiffBpmnParser):
    OVERRIDE_PARSER_CLASSES = {
        tag: (_with_scoped_multi_instance(parser_class), spec_class)
        for tag, (parser_class, spec_class) in {
            **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
            full_tag("userTask"): (HumanUserTaskParser, UserTask),
            full_tag("manualTask"): (HumanTaskParser, ManualTask),
            full_tag("task"): (HumanTaskParser, NoneTask),
            # Joins that merge what each branch changed (see joins.py).
            full_tag("parallelGateway"): (BpmnParser.PARSER_CLASSES[full_tag("parallelGateway")][0], ParallelGateway),
            full_tag("inclusiveGateway"): (BpmnParser.PARSER_CLASSES[full_tag("inclusiveGateway")][0],
                                           InclusiveGateway),
            # One event wins, a message before a timer nobody fired (see event_gateway.py).
            full_tag("eventBasedGateway"): (BpmnParser.PARSER_CLASSES[full_tag("eventBasedGateway")][0],
                                            EventBasedGateway),
        }.items()
    }


# ---------------------------------------------------------------------------------------------
# Parsed result
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class HumanTaskSpec:
    """Static description of one user/manual task spec, for validation and listings."""

    spec_name: str
    title: str
    lane: str | None
    form_key: str | None
    candidate_groups: tuple[str, ...]
    due_date: str | None
    follow_up_date: str | None
    properties: Mapping[str, str]
    process_id: str
    line: int | None


@dataclass(frozen=True)
class ParsedDiagram:
    process_id: str
    name: str
    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]
    human_tasks: tuple[HumanTaskSpec, ...]
    lanes: frozenset[str] = field(default_factory=frozenset)


def is_human_task(task_spec: Any) -> bool:
    return bool(task_spec.manual) and isinstance(task_spec, (UserTaskMixin, ManualTaskMixin, NoneTaskMixin))


def describe_human_task(task_spec: Any, process_id: str, line: int | None = None) -> HumanTaskSpec:
    extensions = getattr(task_spec, "extensions", None) or {}
    return HumanTaskSpec(
        spec_name=task_spec.name,
        title=task_spec.bpmn_name or task_spec.bpmn_id,
        lane=task_spec.lane,
        form_key=extensions.get("formKey"),
        candidate_groups=tuple(extensions.get("candidateGroups", ())),
        due_date=extensions.get("dueDate"),
        follow_up_date=extensions.get("followUpDate"),
        properties=dict(extensions.get("properties", {})),
        process_id=process_id,
        line=line,
    )


def executable_process_ids(root: etree._Element) -> list[str]:
    return [p.get("id") for p in root.iterfind(f"{{{BPMN_NS}}}process") if p.get("isExecutable") == "true"]


def process_to_start(root: etree._Element) -> str | None:
    """The executable process no call activity in the file calls; else the first executable one."""
    executable = executable_process_ids(root)
    called = {c.get("calledElement") for c in root.iter(f"{{{BPMN_NS}}}callActivity")}
    uncalled = [p for p in executable if p not in called]
    candidates = uncalled or executable
    return candidates[0] if candidates else None


def source_lines(*roots: etree._Element) -> dict[str, int]:
    """Element id -> line in its file; the first file wins when ids repeat."""
    lines: dict[str, int] = {}
    for root in roots:
        for node in root.iter():
            node_id = node.get("id") if isinstance(node.tag, str) else None
            if node_id is not None and node.sourceline is not None:
                lines.setdefault(node_id, node.sourceline)
    return lines


def reserved_id_problems(root: etree._Element) -> list[Problem]:
    return [
        Problem(f"The id '{node.get('id')}' is reserved by the engine; give this element another id "
                "(Camunda Modeler's default ids such as StartEvent_1 are fine).",
                element=node.get("id"), line=node.sourceline, code="reserved_id")
        for node in root.iter()
        if isinstance(node.tag, str) and etree.QName(node).namespace == BPMN_NS
        and (node.get("id") in RESERVED_IDS or (node.get("id") or "").endswith(_RESERVED_SUFFIXES))
    ]


# SpiffWorkflow's wording of the parse errors process owners are most likely to make.
_PARSE_MESSAGES = {
    "Non-default exclusive outgoing sequence flow without condition":
        "has no condition and is not the gateway's default flow; give it a condition or make it the default.",
    "Multiple outgoing flows are not supported for tasks of type":
        "has more than one outgoing flow; put a gateway after it to choose between them.",
    "No start event found": "has no start event.",
}


def problem_from_validation(exc: ValidationException, lines: Mapping[str, int]) -> Problem:
    """A SpiffWorkflow parse error as a Problem; SpiffWorkflow leaves the line empty, so look it up."""
    element = exc.id or None
    line = exc.line_number if isinstance(exc.line_number, int) else lines.get(element or "")
    kind = exc.tag.removeprefix("bpmn:")
    kind = "Flow" if kind == "sequenceFlow" else kind[:1].upper() + kind[1:]
    what = f"{kind} '{exc.name or exc.id}'" if exc.id else "The diagram"
    message = exc.args[0] if exc.args else str(exc)
    friendly = _PARSE_MESSAGES.get(message)
    text = f"{what} {friendly}" if friendly else f"{what}: {message}"
    return Problem(text, element=element, line=line, code="parse")


def parse_documents(root: etree._Element, *, filename: str,
                    extra_roots: Mapping[str, etree._Element] | None = None) -> ParsedDiagram:
    """Build the specs from already loaded (and safe) XML trees; the trees' timers get quoted."""
    extra_roots = dict(extra_roots or {})
    lines = source_lines(root, *extra_roots.values())
    process_id = process_to_start(root)
    if process_id is None:
        raise DiagramError(problems=[Problem(
            f"{filename} has no executable process (isExecutable=\"true\"), so nothing could be started.",
            code="not_executable")])
    reserved = [p for tree in (root, *extra_roots.values()) for p in reserved_id_problems(tree)]
    if reserved:
        raise DiagramError(problems=reserved)
    parser = KetenregieBpmnParser()
    try:
        for name, tree in [(filename, root), *extra_roots.items()]:
            rewrite_timer_literals(tree)
            parser.add_bpmn_xml(tree, name)
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        raise DiagramError(problems=[problem_from_validation(exc, lines)]) from exc
    except Exception as exc:
        # SpiffWorkflow wraps most of its parse errors, not all; a deploy must still get an answer.
        raise DiagramError(problems=[Problem(
            f"The diagram could not be read: {type(exc).__name__}: {exc}", code="parse")]) from exc
    human_tasks = tuple(
        describe_human_task(task_spec, process_spec.name, lines.get(task_spec.bpmn_id))
        for process_spec in (spec, *subprocess_specs.values())
        for task_spec in process_spec.task_specs.values()
        if is_human_task(task_spec)
    )
    lanes = frozenset(
        lane.get("name") for tree in (root, *extra_roots.values())
        for lane in tree.iter(f"{{{BPMN_NS}}}lane") if lane.get("name")
    )
    return ParsedDiagram(process_id=process_id, name=spec.description or process_id, spec=spec,
                         subprocess_specs=subprocess_specs, human_tasks=human_tasks, lanes=lanes)


def parse_diagram(xml: bytes, *, filename: str = "diagram.bpmn",
                  extra_bpmn: Mapping[str, bytes] | None = None) -> ParsedDiagram:
    """Parse a BPMN file (plus the deployed files its call activities need) into specs."""
    root = load_xml(xml, filename)
    extra_roots = {name: load_xml(data, name) for name, data in (extra_bpmn or {}).items()}
    return parse_documents(root, filename=filename, extra_roots=extra_roots)
