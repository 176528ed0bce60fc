"""Diagram code runs within a time, operation, size and memory budget; ordinary code is unaffected."""

from __future__ import annotations

import threading
import time

import pytest

from engine.bpmn import budget
from engine.bpmn.budget import ScriptLimitError
from engine.bpmn.sandbox import make_script_engine
from engine.bpmn.validation import validate_diagram
from engine.calendar import werkdagen
from engine.errors import DiagramError
from tests.engine.bpmn.scenario import diagram

# The runaway scripts of issue 11, and the ways around a naive bound that they suggest.
RUNAWAYS = {
    "while True: pass": ("while True:\n    pass", "time"),
    "sum(range(10**11))": ("x = sum(range(10**11))", "size"),
    "'a'*10**10": ("x = 'a' * 10**10", "size"),
    "[0]*10**10": ("x = [0] * 10**10", "size"),
    "10**10**10": ("x = 10**10**10", "size"),
    "deep recursion": ("def f(n):\n    return f(n + 1)\nx = f(0)", "recursion"),
    "recursive lambda": ("f = lambda n: f(n + 1)\nx = f(0)", "recursion"),
    "loop that catches the limit": (
        "while True:\n    try:\n        while True:\n            pass\n    except:\n        pass", "time"),
    "doubling by +": ("s = 'a'\nwhile True:\n    s = s + s", "size"),
    "doubling by +=": ("s = [0]\nwhile True:\n    s += s", "size"),
    "doubling by *=": ("s = [0]\nwhile True:\n    s *= 2", "size"),
    "doubling by extend": ("s = [0]\nwhile True:\n    s.extend(s)", "size"),
    "doubling by spread": ("s = [0]\nwhile True:\n    s = [*s, *s]", "size"),
    "doubling by slice assignment": ("s = [0]\nwhile True:\n    s[len(s):] = s", "size"),
    "doubling by join": ("s = 'a'\nwhile True:\n    s = ''.join([s, s])", "size"),
    "many big lists": ("x = [[0] * 10**6 for _ in range(100)]", "size"),
    "1 << 10**10": ("x = 1 << 10**10", "size"),
    "huge f-string width": ("x = f'{1:>10000000000}'", "size"),
    "huge %-format width": ("x = '%0*d' % (10**9, 1)", "size"),
    "huge ljust": ("x = 'a'.ljust(10**10)", "size"),
    "huge replace": ("x = ('a' * 1000).replace('a', 'b' * 10000)", "size"),
    "sum of lists": ("x = sum([[0] * 1000] * 1000, [])", "size"),
    "growing dict": ("d = {}\ni = 0\nwhile True:\n    d[i] = i\n    i += 1", None),
}


@pytest.mark.parametrize("script, kind", RUNAWAYS.values(), ids=RUNAWAYS.keys())
def test_runaway_script_is_stopped_quickly(script, kind):
    environment = make_script_engine().environment
    started = time.monotonic()

    with pytest.raises(ScriptLimitError) as caught:
        environment.execute(script, {})

    assert time.monotonic() - started < 2.0
    if kind is not None:
        assert caught.value.kind == kind
    else:  # the dict grows by time, steps or memory, whichever runs out first on this machine
        assert caught.value.kind in {"time", "operations", "memory"}


def test_expression_and_condition_are_bounded_too():
    environment = make_script_engine().environment

    with pytest.raises(ScriptLimitError):
        environment.evaluate("sum(range(10**11)) > 0", {})
    with pytest.raises(ScriptLimitError):
        environment.evaluate("len([0 for a in range(10**6) for b in range(10**6)])", {})


def test_operation_budget_stops_a_loop_before_the_clock_does():
    budget.configure(operations=10_000)
    try:
        with pytest.raises(ScriptLimitError) as caught:
            make_script_engine().environment.execute("i = 0\nwhile True:\n    i = i + 1", {})
    finally:
        budget.configure(operations=budget.DEFAULT_OPERATIONS)

    assert caught.value.kind == "operations"


def test_a_step_shares_one_budget_and_stays_spent():
    environment = make_script_engine().environment
    with budget.step() as limits:
        with pytest.raises(ScriptLimitError):
            environment.execute("x = 'a' * 10**10", {})
        # The same step cannot go on with other code, even harmless code.
        with pytest.raises(ScriptLimitError):
            environment.evaluate("1 + 1", {})
        assert limits.tripped is not None
    assert environment.evaluate("1 + 1", {}) == 2  # a new step, a new budget


def test_swallowed_limit_still_fails_the_evaluation():
    with pytest.raises(ScriptLimitError):
        make_script_engine().environment.execute("try:\n    x = 'a' * 10**10\nexcept:\n    x = 1", {})


def test_budgets_are_per_thread():
    # settrace-free, but the same concern: one thread's runaway must not stop another's script.
    environment = make_script_engine().environment
    results: dict[str, object] = {}

    def runaway() -> None:
        try:
            environment.execute("while True:\n    pass", {})
        except ScriptLimitError as exc:
            results["runaway"] = exc.kind

    thread = threading.Thread(target=runaway)
    thread.start()
    data: dict = {"n": 10}
    environment.execute("total = 0\nfor i in range(n):\n    total += i", data)
    thread.join()

    assert data["total"] == 45
    assert results["runaway"] == "time"


@pytest.mark.parametrize("script, expected", [
    ("l = [1]\nm = l\nl += [2]\nr = m", [1, 2]),  # += on a list still changes it in place
    ("l = [1, 2]\nl *= 2\nr = l", [1, 2, 1, 2]),
    ("d = {'a': 1}\nd['a'] += 2\nr = d['a']", 3),
    ("r = f'{3.14159:.2f}|{7:>4}|{\"x\"!r}'", "3.14|   7|'x'"),
    ("r = '%5.1f|%s|%d%%' % (2.25, 'a', 5)", "  2.2|a|5%"),
    ("def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\nr = fib(15)", 610),
    ("r = sorted([3, 1, 2], key=lambda x: -x)", [3, 2, 1]),
    ("r = ', '.join(str(i) for i in range(3)) + 'x'.center(3) + 'ab'.replace('a', 'c')", "0, 1, 2 x cb"),
    ("r = sum([[1], [2]], []) + [*range(2)]", [1, 2, 0, 1]),
    ("r = 2 ** 10 + (3 << 2) + 7 % 4 + 2 * 3.5", 1046.0),
    ("r = [x * 2 for x in range(4) if x % 2]", [2, 6]),
])
def test_ordinary_code_gives_the_same_results(script, expected):
    data: dict = {}

    make_script_engine().environment.execute(script, data)

    assert data["r"] == expected


def test_werkdagen_refuses_an_absurd_number_of_days():
    with pytest.raises(ValueError, match="At most"):
        werkdagen(10**9)


def test_timer_that_runs_away_at_deploy_time_is_refused_quickly_naming_the_element():
    xml = diagram("validation_base.bpmn").replace(b">P14D<", b">'P%dD' % sum(range(10**11))<")
    started = time.monotonic()

    with pytest.raises(DiagramError) as caught:
        validate_diagram(xml, filename="intake.bpmn", role_is_known={"Gemeente", "casusregisseur"}.__contains__,
                         form_exists={"intake", "brief"}.__contains__)

    assert time.monotonic() - started < 2.0
    [problem] = caught.value.problems
    assert (problem.code, problem.element) == ("timer", "Timer_termijn")
    assert "stopped" in problem.message and "larger than allowed" in problem.message


def test_slow_timer_at_deploy_time_is_stopped_by_the_clock():
    xml = diagram("validation_base.bpmn").replace(
        b">P14D<", b">'P%dD' % len([0 for a in range(999999) for b in range(2) for c in range(2)])<")

    with pytest.raises(DiagramError) as caught:
        validate_diagram(xml, filename="intake.bpmn", role_is_known={"Gemeente", "casusregisseur"}.__contains__,
                         form_exists={"intake", "brief"}.__contains__)

    assert caught.value.problems[0].element == "Timer_termijn"
