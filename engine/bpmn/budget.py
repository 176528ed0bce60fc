"""Time, operation, size and memory bounds for the Python in diagrams.

The sandbox rewrites checked code so that loops, functions and the operators that can build huge
values call into a `Budget`; exceeding one of its limits raises `ScriptLimitError`.
"""

# Why rewriting and not sys.settrace: a trace function that raises is switched off by CPython, so a
# script that catches the error (`try: ... except: pass` inside `while True`) would then run
# unwatched, and tracing every line costs ~10x more than a call per loop iteration. A rewritten
# `__sb_tick()` sits at the top of every loop body, outside any `try` in that body, and keeps raising
# once the budget is spent, so no loop survives it. Work done in C in one go (`sum(range(10**11))`,
# `'a' * 10**10`) has no loop to tick in; it is bounded by refusing the sizes up front.
#
# Known gaps, accepted: containers nested into an exponential DAG (`x = [x, x]` sixty times) are small
# in memory, but str(), == and sorting them run in C for a very long time; the memory check reads
# the process's peak resident size, so another thread's allocations can count against a script.

from __future__ import annotations

import ast
import builtins
import operator
import re
import resource
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

# A single value (string, list, range, ...) may have at most this many elements; a step may create
# at most MAX_ALLOCATED elements in total through the checked operations (about 40-80 MB).
MAX_SIZE = 1_000_000
MAX_ALLOCATED = 2_000_000
MAX_INT_BITS = 100_000  # ~30,000 decimal digits
MAX_DEPTH = 100  # nested calls of functions defined in diagram code
DEFAULT_SECONDS = 1.0
WALL_FACTOR = 1.5
DEFAULT_OPERATIONS = 10_000_000  # loop iterations and function calls per step
MEMORY_BYTES = 64 * 1024 * 1024
_CHECK_EVERY = 1024  # ticks between clock and memory readings

_SEQUENCES = (str, bytes, list, tuple)
_RSS_UNIT = 1 if sys.platform == "darwin" else 1024  # ru_maxrss is in bytes on macOS, KiB on Linux


class ScriptLimitError(Exception):
    """Diagram code went over one of its limits; `kind` says which. The message holds no data."""

    MESSAGES = {
        "time": "it ran longer than its time budget",
        "operations": "it ran more steps than its budget allows",
        "size": "it tried to build a value larger than allowed",
        "memory": "it used more memory than allowed",
        "recursion": "its functions call each other too deeply",
    }

    def __init__(self, kind: str) -> None:
        super().__init__(self.MESSAGES[kind])
        self.kind = kind


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * _RSS_UNIT


class Budget:
    """What diagram code may still spend: CPU time, operations, elements and memory growth.

    One budget covers one step of a case (every script, condition and expression it runs), or one
    evaluation when there is no step. Once spent it stays spent: every later tick raises again.
    """

    def __init__(self, seconds: float = DEFAULT_SECONDS, operations: int = DEFAULT_OPERATIONS,
                 memory: int = MEMORY_BYTES) -> None:
        self.seconds, self.operations, self.memory = seconds, operations, memory
        self.deadline = time.thread_time() + seconds
        # CPU time is the budget; on an overloaded machine the wall clock caps it as well, since
        # a step holds the case's row lock for as long as it runs.
        self.wall_deadline = time.monotonic() + seconds * WALL_FACTOR
        self.memory_start: int | None = None  # read at the first check: most steps never get there
        self.ops = 0
        self.next_check = _CHECK_EVERY
        self.allocated = 0
        self.depth = 0
        self.tripped: ScriptLimitError | None = None
        self._builtins: dict[str, Any] | None = None

    def trip(self, kind: str) -> ScriptLimitError:
        if self.tripped is None:
            self.tripped = ScriptLimitError(kind)
        self.next_check = 0  # from now on every tick lands in check() and raises
        return ScriptLimitError(self.tripped.kind)

    def tick(self) -> bool:
        # The hot path: one call per loop iteration or function call. True, so it can be a
        # comprehension's `if`.
        self.ops += 1
        if self.ops >= self.next_check:
            self.check()
        return True

    def check(self) -> None:
        if self.tripped is not None:
            raise ScriptLimitError(self.tripped.kind)
        self.next_check = self.ops + _CHECK_EVERY
        if self.ops > self.operations:
            raise self.trip("operations")
        if time.thread_time() > self.deadline or time.monotonic() > self.wall_deadline:
            raise self.trip("time")
        if self.memory_start is None:
            self.memory_start = _peak_rss()
        elif _peak_rss() - self.memory_start > self.memory:
            raise self.trip("memory")

    def allocate(self, size: int) -> None:
        if size > MAX_SIZE:
            raise self.trip("size")
        self.allocated += size
        if self.allocated > MAX_ALLOCATED:
            raise self.trip("size")

    # --- checked operators -------------------------------------------------------------------

    def pow(self, base: Any, exponent: Any) -> Any:
        if (type(base) in (int, bool) and type(exponent) in (int, bool) and exponent > 0 and abs(base) > 1
                and exponent * base.bit_length() > MAX_INT_BITS):
            raise self.trip("size")
        return base ** exponent

    def mul(self, left: Any, right: Any) -> Any:
        if type(left) is float or type(right) is float:  # the common case first: cheap
            return left * right
        return self._mul(left, right, operator.mul)

    def _mul(self, left: Any, right: Any, op: Callable[[Any, Any], Any]) -> Any:
        if isinstance(left, int) and isinstance(right, int):
            if left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise self.trip("size")
        elif isinstance(left, _SEQUENCES) and isinstance(right, int):
            self.allocate(len(left) * max(right, 0))
        elif isinstance(right, _SEQUENCES) and isinstance(left, int):
            self.allocate(len(right) * max(left, 0))
        return op(left, right)

    def lshift(self, left: Any, right: Any) -> Any:
        if isinstance(left, int) and isinstance(right, int) and left and left.bit_length() + right > MAX_INT_BITS:
            raise self.trip("size")
        return left << right

    def add(self, left: Any, right: Any) -> Any:
        if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
            self.allocate(len(left) + len(right))
        return left + right

    def _add(self, left: Any, right: Any, op: Callable[[Any, Any], Any]) -> Any:
        if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
            self.allocate(len(left) + len(right))
        return op(left, right)

    def mod(self, left: Any, right: Any) -> Any:
        if isinstance(left, str):  # printf-style formatting: '%0*d' % (10**9, 1), '%099999999d'
            if any(len(digits) > 6 for spec in _FORMAT_SPEC.findall(left) for digits in _DIGITS.findall(spec)):
                raise self.trip("size")
            if "*" in left:
                values = right if isinstance(right, tuple) else (right,)
                if any(isinstance(v, int) and abs(v) > MAX_SIZE for v in values):
                    raise self.trip("size")
        return left % right

    def format(self, value: Any, conversion: int, spec: str) -> str:
        # An f-string field with a format spec: f'{x:>10000000000}'.
        if any(len(digits) > 6 for digits in _DIGITS.findall(spec)):
            raise self.trip("size")
        if conversion != -1:
            convert: dict[int, Callable[[Any], str]] = {ord("s"): str, ord("r"): repr, ord("a"): ascii}
            value = convert[conversion](value)
        return builtins.format(value, spec)

    def augmented(self, op: str, left: Any, right: Any) -> Any:
        return self._AUGMENTED[op](self, left, right)

    _AUGMENTED: dict[str, Callable[[Budget, Any, Any], Any]] = {
        "pow": lambda b, x, y: b.pow(x, y),
        "mul": lambda b, x, y: b._mul(x, y, operator.imul),
        "lshift": lambda b, x, y: b.lshift(x, y),
        "add": lambda b, x, y: b._add(x, y, operator.iadd),
        "mod": lambda b, x, y: b.mod(x, y),
    }

    def augmented_item(self, container: Any, key: Any, op: str, value: Any) -> None:
        container[key] = self.augmented(op, container[key], value)

    def augmented_attribute(self, target: Any, name: str, op: str, value: Any) -> None:
        setattr(target, name, self.augmented(op, getattr(target, name), value))

    def sized(self, value: Any) -> Any:
        # Spread (`[*a, *a]`) and slice assignment (`a[len(a):] = a`) copy a whole value.
        if not hasattr(value, "__len__"):
            value = list(value)
        self.allocate(len(value))
        return value

    def method(self, target: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call one of the methods that can grow a value far beyond its input, after sizing it."""
        bound = getattr(target, name)
        if isinstance(target, (str, bytes)):
            if name in ("ljust", "rjust", "center", "zfill") and args and isinstance(args[0], int):
                self.allocate(args[0])
            elif name == "expandtabs":
                tab = args[0] if args else kwargs.get("tabsize", 8)
                if isinstance(tab, int):
                    tabs = target.count("\t") if isinstance(target, str) else target.count(b"\t")
                    self.allocate(len(target) + tabs * tab)
            elif name == "join" and args:
                items = list(args[0])
                self.allocate(sum(len(i) for i in items if isinstance(i, (str, bytes)))
                              + len(target) * max(len(items) - 1, 0))
                return bound(items, *args[1:], **kwargs)
            elif name == "replace" and len(args) >= 2 and isinstance(args[1], (str, bytes)):
                old, new = args[0], args[1]
                found = len(target) + 1 if not old else target.count(old)
                if len(args) > 2 and isinstance(args[2], int) and args[2] >= 0:
                    found = min(found, args[2])
                self.allocate(len(target) + found * max(len(new) - len(old), 0))
            elif name == "translate" and args and isinstance(args[0], dict):
                longest = max((len(v) for v in args[0].values() if isinstance(v, str)), default=1)
                self.allocate(len(target) * max(longest, 1))
        elif isinstance(target, list) and name == "extend" and args:
            grown = args[0] if hasattr(args[0], "__len__") else list(args[0])
            if len(target) + len(grown) > MAX_SIZE:
                raise self.trip("size")
            self.allocate(len(grown))
            return bound(grown)
        return bound(*args, **kwargs)

    # --- checked builtins --------------------------------------------------------------------

    def range(self, *args: Any) -> range:
        result = builtins.range(*args)
        self.allocate(len(result))
        return result

    def sum(self, iterable: Any, /, start: Any = 0) -> Any:
        if isinstance(start, _SEQUENCES):  # sum(lists, []) concatenates in C, copying at every item
            items = list(iterable)
            length, copied = len(start), 0
            for item in items:
                length += len(item) if isinstance(item, _SEQUENCES) else 0
                copied += length
                if copied > MAX_ALLOCATED * 5:
                    raise self.trip("size")
            self.allocate(length)
            return builtins.sum(items, start)
        return builtins.sum(iterable, start)

    def function(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Wrap a function defined in diagram code: count its calls and cap how deep they nest."""
        budget = self

        def call(*args: Any, **kwargs: Any) -> Any:
            budget.tick()
            if budget.depth >= MAX_DEPTH:
                raise budget.trip("recursion")
            budget.depth += 1
            try:
                return fn(*args, **kwargs)
            finally:
                budget.depth -= 1

        return call

    def builtins_for(self, safe: dict[str, Any]) -> dict[str, Any]:
        """The builtins diagram code sees: `safe`, with checked range/sum and the rewrite helpers."""
        if self._builtins is None:
            self._builtins = {
                **safe, "range": self.range, "sum": self.sum,
                "__sb_tick": self.tick, "__sb_pow": self.pow, "__sb_mul": self.mul, "__sb_lshift": self.lshift,
                "__sb_add": self.add, "__sb_mod": self.mod, "__sb_format": self.format,
                "__sb_aug": self.augmented, "__sb_aug_item": self.augmented_item,
                "__sb_aug_attr": self.augmented_attribute, "__sb_sized": self.sized, "__sb_method": self.method,
                "__sb_function": self.function,
            }
        return self._builtins


_FORMAT_SPEC = re.compile(r"%[-#0-9 +.*]*")
_DIGITS = re.compile(r"\d+")

# --- the current budget of this thread -------------------------------------------------------

_local = threading.local()
_settings = {"seconds": DEFAULT_SECONDS, "operations": DEFAULT_OPERATIONS, "memory": MEMORY_BYTES}


def configure(*, seconds: float | None = None, operations: int | None = None, memory: int | None = None) -> None:
    """Set the per-step limits for this process (from the application's configuration)."""
    for key, value in (("seconds", seconds), ("operations", operations), ("memory", memory)):
        if value is not None:
            if value <= 0:
                raise ValueError(f"The script {key} budget must be positive.")
            _settings[key] = value


def new_budget() -> Budget:
    return Budget(float(_settings["seconds"]), int(_settings["operations"]), int(_settings["memory"]))


def current() -> Budget | None:
    return getattr(_local, "budget", None)


@contextmanager
def step() -> Iterator[Budget]:
    """One budget for everything diagram code runs inside the block, on this thread."""
    outer = current()
    if outer is not None:  # nested: the step already running keeps its budget
        yield outer
        return
    budget = new_budget()
    _local.budget = budget
    try:
        yield budget
    finally:
        _local.budget = None


# --- the rewrite -----------------------------------------------------------------------------

_BINARY = {ast.Pow: "__sb_pow", ast.Mult: "__sb_mul", ast.LShift: "__sb_lshift", ast.Add: "__sb_add",
           ast.Mod: "__sb_mod"}
_AUGMENTED_NAMES = {ast.Pow: "pow", ast.Mult: "mul", ast.LShift: "lshift", ast.Add: "add", ast.Mod: "mod"}
GROWING_METHODS = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs", "join", "replace", "translate",
                             "extend"})


def _call(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=list(args), keywords=[])


def _is_number(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def _tick() -> ast.Expr:
    return ast.Expr(value=_call("__sb_tick"))


class _Bounder(ast.NodeTransformer):
    """Route loops, functions and size-building operations of checked code through the budget."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        helper = _BINARY.get(type(node.op))
        if helper is None or (isinstance(node.op, ast.Add) and (_is_number(node.left) or _is_number(node.right))):
            return node  # `i + 1` cannot grow anything: adding a number to a sequence is a TypeError
        return _call(helper, node.left, node.right)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        op = _AUGMENTED_NAMES.get(type(node.op))
        if op is None:
            return node
        target = node.target
        if isinstance(target, ast.Name):
            value = _call("__sb_aug", ast.Constant(op), ast.Name(id=target.id, ctx=ast.Load()), node.value)
            return ast.Assign(targets=[target], value=value)
        if isinstance(target, ast.Subscript):
            return ast.Expr(value=_call("__sb_aug_item", target.value, target.slice, ast.Constant(op), node.value))
        assert isinstance(target, ast.Attribute)
        return ast.Expr(value=_call("__sb_aug_attr", target.value, ast.Constant(target.attr), ast.Constant(op),
                                    node.value))

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        self.generic_visit(node)
        if any(isinstance(t, ast.Subscript) and isinstance(t.slice, ast.Slice) for t in node.targets):
            node.value = _call("__sb_sized", node.value)
        return node

    def visit_Starred(self, node: ast.Starred) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load):
            node.value = _call("__sb_sized", node.value)
        return node

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        self.generic_visit(node)
        if node.format_spec is None:
            return node
        value = _call("__sb_format", node.value, ast.Constant(node.conversion), node.format_spec)
        return ast.FormattedValue(value=value, conversion=-1, format_spec=None)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in GROWING_METHODS:
            return ast.Call(func=ast.Name(id="__sb_method", ctx=ast.Load()),
                            args=[func.value, ast.Constant(func.attr), *node.args], keywords=node.keywords)
        return node

    def _loop(self, node: ast.For | ast.While) -> ast.AST:
        self.generic_visit(node)
        node.body.insert(0, _tick())
        return node

    visit_For = visit_While = _loop

    def visit_comprehension(self, node: ast.comprehension) -> ast.AST:
        self.generic_visit(node)
        node.ifs.insert(0, _call("__sb_tick"))
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        self.generic_visit(node)
        node.decorator_list.append(ast.Name(id="__sb_function", ctx=ast.Load()))
        return node

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        self.generic_visit(node)
        return _call("__sb_function", node)


def bounded(tree: ast.Module | ast.Expression) -> ast.Module | ast.Expression:
    """The same code, calling the budget helpers; only for code that passed the sandbox check."""
    result = ast.fix_missing_locations(_Bounder().visit(tree))
    assert isinstance(result, (ast.Module, ast.Expression))
    return result
