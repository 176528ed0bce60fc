"""Sandbox for the Python in diagrams: scripts, conditions, timer and due-date expressions.

SpiffWorkflow runs these with plain eval/exec; this module checks them first and runs them with a
whitelist of builtins, so deploying a diagram does not mean running arbitrary code on the server.
"""

# Why an AST checker and not RestrictedPython 9.0 (installed, considered):
# - The same check runs at deploy time and must explain itself to a process owner, line by line;
#   one small walker over the syntax tree gives those messages directly.
# - Scripts run unmodified (no rewriting into guard calls), so error lines point at what was written,
#   and SpiffWorkflow's task-data globals need no extra guard functions that it would strip again.
# - The policy is a whitelist, not a blacklist. Without getattr/format/vars, the only way to reach an
#   attribute is a literal `.name` in the source, so checking every attribute name statically against
#   the public methods of plain data types (str, int, list, dict, datetime, ...) covers every
#   attribute access. Frame and generator attributes (gi_frame, f_globals, ...) are simply not on it.
# - Names and attributes starting with "_" are refused (a lone "_" throwaway variable reaches nothing
#   and is allowed), and so are imports, class definitions, global/nonlocal, generators and async.
# - Builtins are an explicit whitelist too: `open`, `eval`, `type`, `getattr`, `__import__`, ... do not
#   exist inside a script, whatever the check says.
# - Checked code is then rewritten (engine/bpmn/budget.py) so that it runs within a time, operation,
#   size and memory budget: `while True: pass`, `'x' * 10**10` or `sum(range(10**11))` end the step in
#   error instead of blocking a worker. RestrictedPython would not help there: it guards attribute and
#   item access, not CPU or memory, so the rewriting would be needed on top of it anyway.

from __future__ import annotations

import ast
import builtins
import textwrap
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from types import CodeType
from typing import Any, Literal

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException

from engine.bpmn import budget
from engine.bpmn.budget import ScriptLimitError
from engine.errors import EngineError, SandboxViolationError

Mode = Literal["eval", "exec"]

MAX_SOURCE_CHARS = 20_000

_BUILTIN_NAMES = (
    "abs", "all", "any", "bool", "chr", "dict", "divmod", "enumerate", "filter", "float", "frozenset",
    "int", "isinstance", "len", "list", "map", "max", "min", "ord", "range", "repr", "reversed",
    "round", "set", "sorted", "str", "sum", "tuple", "zip",
)
SAFE_BUILTINS: dict[str, Any] = {name: getattr(builtins, name) for name in _BUILTIN_NAMES}

# The classes themselves are safe to hand out: everything dangerous on a class is a dunder.
# `datetime` is the class (datetime.now(), datetime.fromisoformat(...)), not the module.
DEFAULT_GLOBALS: dict[str, Any] = {
    "datetime": datetime, "date": date, "time": time, "timedelta": timedelta, "timezone": timezone,
}

_SAFE_TYPES = (str, int, float, bool, list, dict, set, frozenset, tuple, datetime, date, time, timedelta,
               timezone)
# format/format_map read attributes from inside a string ('{0.__class__}'); mro hands out `object`.
_UNSAFE_METHODS = {"format", "format_map", "mro"}
SAFE_ATTRIBUTES = frozenset(
    name for cls in _SAFE_TYPES for name in dir(cls) if not name.startswith("_")
) - _UNSAFE_METHODS

# Calling one of these is an escape attempt; as plain names they may be task data ('type' is a
# reasonable form field), so only calls are refused here. At run time none of them exists anyway.
FORBIDDEN_CALLS = frozenset({
    "breakpoint", "compile", "delattr", "dir", "eval", "exec", "exit", "format", "getattr", "globals",
    "hasattr", "help", "input", "locals", "memoryview", "object", "open", "print", "quit", "setattr",
    "super", "type", "vars",
})

_FORBIDDEN_NODES: dict[type[ast.AST], str] = {
    ast.Import: "imports are not allowed",
    ast.ImportFrom: "imports are not allowed",
    ast.Global: "'global' is not allowed",
    ast.Nonlocal: "'nonlocal' is not allowed",
    ast.ClassDef: "defining classes is not allowed",
    ast.AsyncFunctionDef: "async code is not allowed",
    ast.Await: "async code is not allowed",
    ast.AsyncFor: "async code is not allowed",
    ast.AsyncWith: "async code is not allowed",
    ast.Yield: "generators ('yield') are not allowed",
    ast.YieldFrom: "generators ('yield') are not allowed",
    ast.Match: "'match' statements are not allowed",
    ast.With: "'with' statements are not allowed",
}


def _bad_name(name: str | None) -> bool:
    # A lone "_" is the usual throwaway variable and reaches nothing; "_x" and dunders do.
    return name is not None and name.startswith("_") and name != "_"


def _node_problems(node: ast.AST) -> Iterator[str]:
    for node_type, reason in _FORBIDDEN_NODES.items():
        if isinstance(node, node_type):
            yield reason
    if isinstance(node, ast.Name) and _bad_name(node.id):
        yield f"the name '{node.id}' starts with '_', which is not allowed"
    elif isinstance(node, ast.Attribute):
        if node.attr.startswith("_"):
            yield f"'.{node.attr}' starts with '_', which is not allowed"
        elif node.attr not in SAFE_ATTRIBUTES:
            yield f"'.{node.attr}' is not an allowed method or attribute"
    elif isinstance(node, (ast.FunctionDef, ast.Lambda)):
        names = [a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)]
        names += [a.arg for a in (node.args.vararg, node.args.kwarg) if a is not None]
        if isinstance(node, ast.FunctionDef):
            names.append(node.name)
        for name in filter(_bad_name, names):
            yield f"the name '{name}' starts with '_', which is not allowed"
    elif isinstance(node, ast.ExceptHandler) and _bad_name(node.name):
        yield f"the name '{node.name}' starts with '_', which is not allowed"
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
        yield f"calling '{node.func.id}' is not allowed"


def _normalised(source: str, mode: Mode) -> str:
    # XML editors indent script text along with the markup; Python would refuse the indentation.
    return source.strip() if mode == "eval" else textwrap.dedent(source).strip("\n")


def check_source(source: str | None, *, mode: Mode) -> list[str]:
    """Check a script (mode="exec") or expression (mode="eval"); return problems, empty if fine."""
    if source is None or not source.strip():
        return ["it is empty"] if mode == "eval" else []
    if len(source) > MAX_SOURCE_CHARS:
        return [f"it is longer than {MAX_SOURCE_CHARS} characters"]
    try:
        tree = ast.parse(_normalised(source, mode), mode=mode)
    except SyntaxError as exc:
        where = f"line {exc.lineno}: " if exc.lineno and mode == "exec" else ""
        return [f"{where}it is not valid Python ({exc.msg})"]
    problems: list[str] = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", None)
        for reason in _node_problems(node):
            text = f"line {line}: {reason}" if line is not None and mode == "exec" else reason
            if text not in problems:
                problems.append(text)
    return problems


def free_names(source: str) -> set[str]:
    """Names an expression reads that it does not bind itself and that are not sandbox globals.

    An expression without free names reads no case data, so it can be evaluated at deploy time.
    """
    tree = ast.parse(source.strip(), mode="eval")
    loaded: set[str] = set()
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    return loaded - bound - set(SAFE_BUILTINS) - set(DEFAULT_GLOBALS)


@lru_cache(maxsize=2048)
def _compiled(source: str, mode: Mode) -> CodeType:
    problems = check_source(source, mode=mode)
    if problems:
        raise SandboxViolationError("; ".join(problems))
    parsed = ast.parse(_normalised(source, mode), mode=mode)
    assert isinstance(parsed, (ast.Module, ast.Expression))
    tree = budget.bounded(parsed)
    # "<string>" lets SpiffWorkflow's error reporting find the failing line of a script.
    code: CodeType = compile(tree, "<string>", mode)
    return code


def _run(run: Callable[[dict[str, Any]], Any]) -> Any:
    # Within a step, all code shares the step's budget; anywhere else (deploying a diagram) each
    # evaluation gets a budget of its own.
    limits = budget.current()
    if limits is None:
        with budget.step() as limits:
            return _run_within(limits, run)
    return _run_within(limits, run)


def _run_within(limits: budget.Budget, run: Callable[[dict[str, Any]], Any]) -> Any:
    if limits.tripped is not None:
        raise ScriptLimitError(limits.tripped.kind)
    result = run(limits.builtins_for(SAFE_BUILTINS))
    if limits.tripped is not None:  # the code caught the limit error itself and went on
        raise ScriptLimitError(limits.tripped.kind)
    return result


class SandboxEnvironment(TaskDataEnvironment):
    """Evaluates and executes checked code with task data as variables and a whitelist of builtins."""

    def __init__(self, functions: Mapping[str, Callable[..., Any]] | None = None) -> None:
        extra = dict(functions or {})
        for name in extra:
            if not name.isidentifier() or name.startswith("_"):
                raise ValueError(f"Cannot offer {name!r} to scripts: not a plain public name")
        super().__init__({**DEFAULT_GLOBALS, **extra})

    def evaluate(self, expression: str, context: dict, external_context: dict | None = None) -> Any:
        code = _compiled(expression, "eval")
        scope = {**self.globals, **(external_context or {}), **context}

        def run(safe_builtins: dict[str, Any]) -> Any:
            # Set last, so task data can never supply its own builtins.
            scope["__builtins__"] = safe_builtins
            return eval(code, scope)  # noqa: S307 - the code passed check_source and gets safe builtins only

        return _run(run)

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> bool:
        code = _compiled(script, "exec")
        injected = {**self.globals, **(external_context or {})}
        # Unlike SpiffWorkflow we let task data shadow a global ('date' is a likely form field)
        # instead of refusing to run, and we only remove what we injected ourselves afterwards.
        added = {name: value for name, value in injected.items() if name not in context}
        context.update(added)

        def run(safe_builtins: dict[str, Any]) -> None:
            context["__builtins__"] = safe_builtins
            exec(code, context)  # noqa: S102 - the code passed check_source and gets safe builtins only

        try:
            _run(run)
        finally:
            context.pop("__builtins__", None)
            for name in list(context):
                value = context[name]
                if callable(value) or (name in added and value is added[name]):
                    del context[name]
        return True


class SandboxScriptEngine(PythonScriptEngine):
    """SpiffWorkflow script engine that refuses unchecked code."""

    def validate(self, expression: str) -> None:
        _compiled(expression, "eval")


def make_script_engine(functions: Mapping[str, Callable[..., Any]] | None = None) -> PythonScriptEngine:
    """The engine every workflow runs with; `functions` are extra helpers offered to scripts by name."""
    return SandboxScriptEngine(environment=SandboxEnvironment(functions))


def exception_chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _element_of(exc: BaseException) -> tuple[str | None, str | None]:
    task_spec = None
    if isinstance(exc, WorkflowTaskException) and exc.task is not None:
        task_spec = exc.task.task_spec
    elif isinstance(exc, WorkflowException):
        task_spec = exc.task_spec
    if task_spec is None:
        # Our own errors about an element (a due date that could not be computed) name it in a problem.
        element = next((p.element for p in getattr(exc, "problems", None) or [] if p.element), None)
        return element, element
    bpmn_id = getattr(task_spec, "bpmn_id", None)
    return bpmn_id, getattr(task_spec, "bpmn_name", None) or bpmn_id


def _script_line(exc: BaseException) -> int | None:
    line = next((getattr(e, "line_number", None) for e in exception_chain(exc)
                 if isinstance(e, WorkflowTaskException)), None)
    return line if isinstance(line, int) and line > 0 else None


def _root(exc: BaseException) -> BaseException | None:
    # SpiffWorkflow (or our ScriptError for due dates) wraps the real error (NameError, TypeError, ...);
    # that one says what went wrong.
    return next((e for e in exception_chain(exc) if not isinstance(e, SpiffWorkflowException)
                 and not (isinstance(e, EngineError) and e.__cause__ is not None)), None)


def explain(exc: BaseException) -> tuple[str | None, str]:
    """Turn an exception raised while a case ran into (BPMN element id, message for people).

    The message names the element and the kind of failure, never a value: case errors are shown
    to every partner in the case, so `int(x)` failing must not repeat what x was. The full text
    is for `diagnose`, which only goes to the diagnostic view.
    """
    element, title = None, None
    for link in exception_chain(exc):
        element, title = _element_of(link)
        if element is not None:
            break
    where = f"'{title}'" if title else "the process"
    violation = next((e for e in exception_chain(exc) if isinstance(e, SandboxViolationError)), None)
    if violation is not None:  # about the code as written, not the data
        return element, f"Code in {where} uses something that is not allowed: {violation.message}."
    limit = next((e for e in exception_chain(exc) if isinstance(e, ScriptLimitError)), None)
    if limit is not None:
        return element, f"Code in {where} was stopped: {limit}."
    root = _root(exc)
    if root is None:
        kind = "the workflow engine refused to go on"
    elif isinstance(root, NameError) and root.name:
        kind = f"NameError ('{root.name}' is not defined)"  # a name from the code, not a value
    else:
        kind = type(root).__name__
    line = _script_line(exc)
    return element, f"Running {where} failed: {kind}" + (f" (script line {line})." if line else ".")


def diagnose(exc: BaseException) -> tuple[str, str]:
    """(exception type, full text) of what failed, for the process owner's diagnostic view only:
    the text can hold case data values."""
    root = _root(exc) or exc
    detail = f"{type(root).__name__}: {root}" if root is not exc else str(exc)
    line = _script_line(exc)
    if line:
        detail += f" (script line {line})"
    return type(root).__name__, detail
