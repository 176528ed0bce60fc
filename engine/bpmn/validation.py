"""Validates a BPMN file before anything is stored, reporting every problem at once.

Messages are for process owners, not programmers: which element, which line, what to change.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.manual_task import ManualTask as ManualTaskMixin
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask as UserTaskMixin
from SpiffWorkflow.spiff.parser.process import SPIFF_XSD
from SpiffWorkflow.spiff.parser.task_spec import SPIFFWORKFLOW_NSMAP

from engine.bpmn import budget
from engine.bpmn.budget import ScriptLimitError
from engine.bpmn.parser import (
    BPMN_NS,
    CAMUNDA_NS,
    ParsedDiagram,
    describe_human_task,
    executable_process_ids,
    is_human_task,
    is_iso_datetime,
    is_iso_duration,
    load_xml,
    parse_documents,
    reserved_id_problems,
    timer_expression,
)
from engine.bpmn.sandbox import Mode, check_source, free_names, make_script_engine
from engine.errors import DiagramError, Problem

SPIFF_NS = SPIFFWORKFLOW_NSMAP["spiffworkflow"]
_TIMER_KINDS = {"timeDuration": "duration", "timeDate": "date", "timeCycle": "cycle"}
_TIMER_EXAMPLES = "for example P14D, PT1H, R3/PT10M or 2026-05-01T09:00:00+02:00"
# A bare word like P14X or PT1X is a mistyped ISO value, not a reference to case data.
_ISO_LOOKALIKE = re.compile(r"[PR]T?\d[0-9A-Z.,/:+\-]*")
_PYTHON_LANGUAGES = {"python", "python3", "py", "text/x-python"}
# (tag, mode, what) of the expressions besides timers, scripts and flow conditions.
_OTHER_EXPRESSIONS: tuple[tuple[str, Mode, str], ...] = (
    ("condition", "eval", "event condition"),
    ("loopCondition", "eval", "loop condition"),
    ("loopCardinality", "eval", "loop cardinality"),
    ("completionCondition", "eval", "completion condition"),
)
_KIND_NAMES = {
    "userTask": "User task", "manualTask": "Manual task", "task": "Task", "scriptTask": "Script task",
    "sequenceFlow": "Flow", "boundaryEvent": "Boundary event", "intermediateCatchEvent": "Event",
    "startEvent": "Start event", "callActivity": "Call activity", "subProcess": "Subprocess",
}

_NOT_OWNERS = ("EventDefinition", "LoopCharacteristics")

_schemas = threading.local()


def _validator() -> BpmnValidator:
    # An XMLSchema keeps the error log of its last run, so each thread gets its own.
    if not hasattr(_schemas, "validator"):
        _schemas.validator = BpmnValidator(imports={"spiffworkflow": SPIFF_XSD})
    return _schemas.validator


def _bpmn(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname


def _describe(node: etree._Element) -> str:
    kind = _KIND_NAMES.get(_local(node), _local(node))
    if node.find(_bpmn("timerEventDefinition")) is not None:
        kind = "Timer"
    return f"{kind} '{node.get('name') or node.get('id')}'"


def _owner(node: etree._Element | None) -> etree._Element | None:
    """The flow element a setting belongs to (event definitions and loop settings may carry ids too)."""
    while node is not None and (node.get("id") is None or _local(node).endswith(_NOT_OWNERS)):
        node = node.getparent()
    return node


def _problem(message: str, node: etree._Element | None, code: str, line: int | None = None) -> Problem:
    owner = _owner(node)
    return Problem(message, element=owner.get("id") if owner is not None else None,
                   line=line or (node.sourceline if node is not None else None), code=code)


def _hint(text: str) -> str:
    if "${" in text or "#{" in text:
        return " Camunda's ${...} expressions are not supported here; write a Python expression."
    return ""


# ---------------------------------------------------------------------------------------------
# Checks on the XML
# ---------------------------------------------------------------------------------------------

def _schema_problems(root: etree._Element, filename: str) -> list[Problem]:
    validator = _validator()
    validator.preprocess(root)  # bpmn-js writes correlation expressions the XSD refuses
    schema = validator.validator
    if schema.validate(root):
        return []
    problems = []
    for entry in schema.error_log:
        message = entry.message.replace(f"{{{BPMN_NS}}}", "bpmn:").replace(f"{{{CAMUNDA_NS}}}", "camunda:")
        try:
            prefixes = {prefix: uri for prefix, uri in root.nsmap.items() if prefix}
            found = root.getroottree().xpath(entry.path, namespaces=prefixes)
        except (etree.XPathError, TypeError):
            found = []
        node = found[0] if found and isinstance(found[0], etree._Element) else None
        problems.append(_problem(f"{filename} does not follow the BPMN standard here: {message}",
                                 node, "xsd", line=entry.line))
    return problems


def _call_problems(root: etree._Element, known_processes: set[str]) -> list[Problem]:
    return [
        _problem(f"{_describe(call)} calls process '{call.get('calledElement')}', which is not deployed.",
                 call, "parse")
        for call in root.iter(_bpmn("callActivity"))
        if call.get("calledElement") and call.get("calledElement") not in known_processes
    ]


def _code_problems(node: etree._Element, text: str | None, mode: Mode, what: str,
                   code: str = "script") -> list[Problem]:
    issues = check_source(text, mode=mode)
    owner = _owner(node)
    where = _describe(owner if owner is not None else node)
    return [_problem(f"The {what} of {where} cannot be used: {issue}." + _hint(text or ""), node, code)
            for issue in issues]


def _expression_problems(root: etree._Element) -> Iterator[Problem]:
    for flow in root.iter(_bpmn("sequenceFlow")):
        for condition in flow.iterfind(_bpmn("conditionExpression")):
            language = (condition.get("language") or "python").lower()
            if language not in _PYTHON_LANGUAGES:
                yield _problem(f"The condition of {_describe(flow)} is written in '{language}'; "
                               "only Python conditions are supported.", condition, "condition")
            else:
                yield from _code_problems(condition, condition.text, "eval", "condition", "condition")
    for task in root.iter(_bpmn("scriptTask")):
        language = (task.get("scriptFormat") or "python").lower()
        if language not in _PYTHON_LANGUAGES:
            yield _problem(f"{_describe(task)} is written in '{language}'; only Python scripts are "
                           "supported.", task, "script")
            continue
        for script in task.iterfind(_bpmn("script")):
            yield from _code_problems(script, script.text, "exec", "script")
    for tag in ("preScript", "postScript"):
        for script in root.iter(f"{{{SPIFF_NS}}}{tag}"):
            yield from _code_problems(script, script.text, "exec", "pre-script" if tag == "preScript" else
                                      "post-script")
    for tag, mode, what in _OTHER_EXPRESSIONS:
        for node in root.iter(_bpmn(tag)):
            yield from _code_problems(node, node.text, mode, what, "condition")


def _timer_value_problem(kind: str, value: object) -> str | None:
    if not isinstance(value, str):
        return f"it must produce ISO 8601 text ({_TIMER_EXAMPLES}), not a {type(value).__name__}"
    try:
        if kind == "duration":
            TimerEventDefinition.get_timedelta_from_start(TimerEventDefinition.parse_iso_duration(value))
        elif kind == "cycle":
            TimerEventDefinition.parse_iso_recurring_interval(value)
        elif not isinstance(TimerEventDefinition.parse_time_or_duration(value), datetime):
            raise ValueError(value)
        elif "W" not in value.upper() and datetime.fromisoformat(value).tzinfo is None:
            return f"'{value}' has no UTC offset; write it with one, like 2026-05-01T09:00:00+02:00"
    except Exception:
        return f"'{value}' is not a valid ISO 8601 {kind} ({_TIMER_EXAMPLES})"
    return None


def _timer_problem(event: etree._Element, node: etree._Element, kind: str) -> str | None:
    raw = (node.text or "").strip()
    if not raw:
        return f"{_describe(event)} has an empty {kind}."
    expression = timer_expression(raw) or raw
    if expression == raw and _ISO_LOOKALIKE.fullmatch(raw):
        return f"{_describe(event)} has '{raw}', which is not a valid ISO 8601 {kind} ({_TIMER_EXAMPLES})."
    issues = check_source(expression, mode="eval")
    if issues:
        return f"{_describe(event)} has '{raw}', which cannot be used: {'; '.join(issues)}.{_hint(raw)}"
    if free_names(expression):
        return None  # reads case data, so it can only be evaluated when the timer starts
    limits = budget.current()
    if limits is not None and limits.tripped is not None:
        return None  # an earlier timer already spent the diagram's budget (and is reported)
    try:
        value = make_script_engine().environment.evaluate(expression, {})
    except ScriptLimitError as exc:
        return f"{_describe(event)} has '{raw}', which was stopped: {exc}."
    except Exception as exc:
        return f"{_describe(event)} has '{raw}', which fails: {type(exc).__name__}: {exc}."
    issue = _timer_value_problem(kind, value)
    return f"{_describe(event)} has '{raw}': {issue}." if issue else None


def _timer_problems(root: etree._Element) -> list[Problem]:
    # Timers without case data are evaluated here, inside the deploy request: all of them share
    # one script budget, so a diagram full of slow timers cannot hold the request either.
    problems = []
    with budget.step():
        for definition in root.iter(_bpmn("timerEventDefinition")):
            event = definition.getparent()
            settings = [n for n in definition if isinstance(n.tag, str) and _local(n) in _TIMER_KINDS]
            if not settings:
                problems.append(_problem(f"{_describe(event)} has no duration, date or cycle set.", event, "timer"))
            for node in settings:
                message = _timer_problem(event, node, _TIMER_KINDS[_local(node)])
                if message:
                    problems.append(_problem(message, node, "timer"))
    return problems


def _date_problems(root: etree._Element) -> Iterator[Problem]:
    for tag in ("userTask", "manualTask", "task"):
        for task in root.iter(_bpmn(tag)):
            for attribute, what in (("dueDate", "due date"), ("followUpDate", "follow-up date")):
                value = (task.get(f"{{{CAMUNDA_NS}}}{attribute}") or "").strip()
                if not value or is_iso_duration(value):
                    continue
                if is_iso_datetime(value):
                    if "T" in value and datetime.fromisoformat(value).tzinfo is None:
                        yield _problem(f"The {what} of {_describe(task)} ('{value}') has no UTC offset; "
                                       "write it like 2026-05-01T09:00:00+02:00.", task, "due_date")
                    continue
                if _ISO_LOOKALIKE.fullmatch(value):
                    yield _problem(f"The {what} of {_describe(task)} ('{value}') is not a valid ISO 8601 "
                                   "duration or date (for example P3D or 2026-05-01).", task, "due_date")
                    continue
                for issue in check_source(value, mode="eval"):
                    yield _problem(f"The {what} of {_describe(task)} ('{value}') is neither ISO 8601 (P3D, "
                                   f"2026-05-01) nor a usable expression: {issue}.{_hint(value)}", task,
                                   "due_date")


# ---------------------------------------------------------------------------------------------
# Checks on the parsed specs
# ---------------------------------------------------------------------------------------------

def _kind(task_spec: object) -> str:
    if isinstance(task_spec, UserTaskMixin):
        return "User task"
    return "Manual task" if isinstance(task_spec, ManualTaskMixin) else "Task"


def _human_task_problems(parsed: ParsedDiagram, lines: Mapping[str, int],
                         role_is_known: Callable[[str], bool],
                         form_exists: Callable[[str], bool]) -> Iterator[Problem]:
    for process_spec in (parsed.spec, *parsed.subprocess_specs.values()):
        for task_spec in process_spec.task_specs.values():
            if not is_human_task(task_spec):
                continue
            task = describe_human_task(task_spec, process_spec.name)
            what, element = f"{_kind(task_spec)} '{task.title}'", task_spec.bpmn_id
            line = lines.get(element)
            if task.candidate_groups:
                for group in task.candidate_groups:
                    if not role_is_known(group):
                        yield Problem(f"{what} has candidate group '{group}', which is not a known role or "
                                      "organisation.", element, line, "unknown_role")
            elif task.lane:
                if not role_is_known(task.lane):
                    yield Problem(f"{what} is in lane '{task.lane}', which is not a known role or "
                                  "organisation.", element, line, "unknown_role")
            else:
                yield Problem(f"{what} has no lane and no candidate group, so nobody would receive it.",
                              element, line, "unroutable")
            if task.form_key and not form_exists(task.form_key):
                yield Problem(f"{what} uses form '{task.form_key}', which does not exist.", element, line,
                              "unknown_form")


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------

def validate_diagram(xml: bytes, *, filename: str, role_is_known: Callable[[str], bool],
                     form_exists: Callable[[str], bool], extra_bpmn: Mapping[str, bytes] | None = None,
                     max_bytes: int = 2_000_000) -> ParsedDiagram:
    """The parsed diagram if it can be deployed; otherwise DiagramError listing every problem found."""
    if len(xml) > max_bytes:
        raise DiagramError(problems=[Problem(
            f"{filename} is {len(xml):,} bytes; the limit is {max_bytes:,} bytes.", code="too_large")])
    root = load_xml(xml, filename)
    extra_roots = {name: load_xml(data, name) for name, data in (extra_bpmn or {}).items()}
    lines = {n.get("id"): n.sourceline for n in root.iter() if isinstance(n.tag, str) and n.get("id")}

    blocking = _schema_problems(root, filename)
    if not executable_process_ids(root):
        blocking.append(Problem(f"{filename} has no executable process (isExecutable=\"true\" is missing), "
                                "so no case could be started.", code="not_executable"))
    known = {p.get("id") for tree in (root, *extra_roots.values()) for p in tree.iter(_bpmn("process"))}
    blocking += _call_problems(root, known)
    blocking += reserved_id_problems(root)
    problems = [*blocking, *_expression_problems(root), *_timer_problems(root), *_date_problems(root)]

    parsed = None
    if not blocking:
        try:
            parsed = parse_documents(root, filename=filename, extra_roots=extra_roots)
        except DiagramError as exc:
            problems += exc.problems
    if parsed is not None:
        problems += _human_task_problems(parsed, lines, role_is_known, form_exists)
    if problems or parsed is None:
        unique = list(dict.fromkeys(problems))
        raise DiagramError(f"{filename} cannot be deployed: {len(unique)} problem(s).", problems=unique)
    return parsed
