"""Workflow state in and out: the spec once per process version, the instance state per case, kept small.

The instance state is compacted before it is written: finished history that can no longer influence
execution is dropped (our own database keeps the audit trail), so a long-lived case stays flat.
"""

# Compaction rule and why it is safe
# ----------------------------------
# For every child C of the root task (the main flow, plus any event subprocess started beside it),
# let U be the unfinished tasks (MAYBE ... STARTED) in C's subtree and K the deepest task that is an
# ancestor of the *parent* of every task in U. If K is COMPLETED and deeper than C, K is spliced
# directly under the root in C's place and everything outside K's subtree is dropped.
# - Data: tasks copy data from their parent when they are updated; K is finished, so its data is
#   final and stays, and every task that will still run descends from K.
# - Using the parents of U (not U itself) keeps the parent of every waiting join instance, which is
#   what ParallelGateway/InclusiveGateway inspect (`task.parent.state/.task_spec`) and what
#   UnstructuredJoin merges data from (`task.parent.data`).
# - Structured joins look up their split with find_ancestor(): a BoundaryEventJoin's split is the
#   parent of the main task and of every boundary event, which are unfinished (or have unfinished
#   join children) until the join fires, so K is that split or one of its ancestors: the split stays.
# - Multi-instance and standard-loop tasks are unfinished while they run, so their instances stay.
# - Event-based gateways and catching events keep their state in their own internal_data.
# - Loops (gateway loops, standard loops) only ever look at the current iteration.
# - Subprocess tasks that are dropped lose their (finished) subprocess workflows too, and a finished
#   subprocess of a COMPLETED task goes as well: its data was copied to the task when it completed.
# Skipped: workflows with a task in ERROR (keep everything for diagnosis) and ad hoc subprocesses
# (their paths hang directly off the root). Not shrunk: history inside a parallel region that is
# still open (its split is the common ancestor), so a gateway loop inside one open parallel branch
# still deepens the tree; check_progress() stops such a case before SpiffWorkflow's depth limit.
# Also dropped: finished iterations of a running standard loop (merged into the loop task already).
# Behaviour change versus plain SpiffWorkflow: a join (joins.merge_branches) merges the data of every
# finished, non-ancestor instance of its join; instances from earlier loop rounds are gone after
# compaction, so their branch data no longer leaks into later rounds. The split a join measures branch
# changes against is the common ancestor of its open branches, so compaction keeps it.

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from typing import Any
from uuid import UUID

from SpiffWorkflow import __version__ as SPIFF_VERSION
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.helpers.encoder import create_encoder
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs import defaults as bpmn_defaults
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import AdHocSubprocessSpec, BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import StandardLoopTask
from SpiffWorkflow.bpmn.util.subworkflow import BpmnBaseWorkflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.specs import defaults as spiff_defaults
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.bpmn import event_gateway, joins, multiinstance
from engine.bpmn.parser import ParsedDiagram
from engine.errors import EngineError, Problem, ScriptError

# Bump our part whenever the shape of what dump_state/dump_spec write changes.
FORMAT_NUMBER = 1
SERIALIZER_VERSION = f"spiff-{SPIFF_VERSION}-{FORMAT_NUMBER}"

# SpiffWorkflow's TaskIterator stops at depth 1000 and then reports the workflow completed.
DEPTH_LIMIT = 900
MAX_ENGINE_ROUNDS = 100
ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
SubprocessSpecs = dict[str, BpmnProcessSpec]


class _InstanceConverter(BpmnWorkflowConverter):
    """The top-level workflow without its spec and subprocess specs (those are stored per version)."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def restore(self, dct: dict[str, Any], spec: BpmnProcessSpec, subprocess_specs: SubprocessSpecs,
                script_engine: PythonScriptEngine) -> BpmnWorkflow:
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.get("bpmn_events", []))
        return workflow


def _serializer_config() -> dict[type, type]:
    # Our multi-instance specs, joins and event gateway replace SpiffWorkflow's under the same type names, so every
    # stored spec (also those stored before) restores into them (see multiinstance.py and joins.py).
    config = dict(SPIFF_CONFIG)
    for ours in (multiinstance.ParallelMultiInstanceTask, multiinstance.SequentialMultiInstanceTask):
        config[ours] = config.pop(getattr(spiff_defaults, ours.__name__))
    for ours in (joins.ParallelGateway, joins.InclusiveGateway, event_gateway.EventBasedGateway):
        config[ours] = config.pop(getattr(bpmn_defaults, ours.__name__))
    return config


_REGISTRY = BpmnWorkflowSerializer.configure(_serializer_config())
_INSTANCE = _InstanceConverter(BpmnWorkflow, _REGISTRY)
# SpiffWorkflow leaves task data (datetimes, sets) to its JSON encoder; we want plain JSON types.
_ENCODER = create_encoder(_REGISTRY)


def _plain_json(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=_ENCODER))


# ---------------------------------------------------------------------------------------------
# Specs
# ---------------------------------------------------------------------------------------------

def dump_spec(parsed: ParsedDiagram) -> dict[str, Any]:
    """JSON-able spec of a process version, stored once per version."""
    return _plain_json({
        "format": SERIALIZER_VERSION,
        "spec": _REGISTRY.convert(parsed.spec),
        "subprocess_specs": {name: _REGISTRY.convert(s) for name, s in parsed.subprocess_specs.items()},
    })


def load_spec(data: Mapping[str, Any]) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
    """Specs from dump_spec(); the caller caches the result per process version."""
    _check_format(data)
    # SpiffWorkflow's restore writes into the dicts it is given; keep the caller's data intact.
    data = copy.deepcopy(dict(data))
    spec = _REGISTRY.restore(data["spec"])
    subprocess_specs = {name: _REGISTRY.restore(s) for name, s in data["subprocess_specs"].items()}
    return spec, subprocess_specs


def _check_format(data: Mapping[str, Any]) -> None:
    if data.get("format") != SERIALIZER_VERSION:
        raise EngineError(f"Saved state has format {data.get('format')!r}; this engine reads "
                          f"{SERIALIZER_VERSION!r}. It must be migrated first.")


# ---------------------------------------------------------------------------------------------
# Instances
# ---------------------------------------------------------------------------------------------

def all_workflows(workflow: BpmnWorkflow) -> list[BpmnBaseWorkflow]:
    return [workflow, *workflow.subprocesses.values()]


def all_tasks(workflow: BpmnWorkflow) -> Iterator[Task]:
    """Every task of the workflow and its subprocesses, without SpiffWorkflow's depth limit."""
    for wf in all_workflows(workflow):
        yield from wf.tasks.values()


def _has_ready_engine_task(workflow: BpmnWorkflow) -> bool:
    return any(t.state == TaskState.READY and not t.task_spec.manual for t in all_tasks(workflow))


def run_until_quiet(workflow: BpmnWorkflow) -> None:
    """Engine steps, then timers that came due, until only people or the clock can move the case."""
    for _ in range(MAX_ENGINE_ROUNDS):
        # do_engine_steps ends with refresh_timers, which can make timers READY without running them.
        workflow.do_engine_steps()
        if not _has_ready_engine_task(workflow):
            return
        # READY work the engine did not pick up is usually past its depth limit; say so now.
        check_progress(workflow)
    message = f"The process did not come to rest after {MAX_ENGINE_ROUNDS} rounds of engine steps."
    raise ScriptError(message, problems=[Problem(message, code="stalled")])


def new_workflow(spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec], *,
                 script_engine: PythonScriptEngine, data: Mapping[str, Any] | None = None) -> BpmnWorkflow:
    """A started workflow: engine steps done, waiting for people or timers."""
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine)
    if data:
        # The root task's data is what the start event (and so every later task) inherits.
        workflow.task_tree.data.update(copy.deepcopy(dict(data)))
    run_until_quiet(workflow)
    check_progress(workflow)
    return workflow


def dump_state(workflow: BpmnWorkflow, *, compact_history: bool = True) -> dict[str, Any]:
    """JSON-able instance state without specs; compacts the workflow in place first (see top)."""
    if compact_history:
        compact(workflow)
    return {"format": SERIALIZER_VERSION, "workflow": _plain_json(_INSTANCE.to_dict(workflow))}


def load_state(data: Mapping[str, Any], spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec],
               *, script_engine: PythonScriptEngine) -> BpmnWorkflow:
    """The workflow saved by dump_state(), on the cached spec objects of its process version."""
    _check_format(data)
    # Restoring pops keys out of the workflow and subprocess dicts; give it shallow copies.
    dct = dict(data["workflow"])
    dct["subprocesses"] = {key: dict(sub) for key, sub in dct["subprocesses"].items()}
    return _INSTANCE.restore(dct, spec, subprocess_specs, script_engine)


# ---------------------------------------------------------------------------------------------
# Compaction
# ---------------------------------------------------------------------------------------------

def _subtree(wf: BpmnBaseWorkflow, top: Task) -> Iterator[Task]:
    stack = [top]
    while stack:
        task = stack.pop()
        yield task
        stack.extend(wf.tasks[child] for child in task._children)


def _deepest_common_ancestor(anchors: list[Task]) -> Task:
    path = []
    task: Task | None = anchors[0]
    while task is not None:
        path.append(task)
        task = task.parent
    path.reverse()
    position = {t.id: i for i, t in enumerate(path)}
    deepest = len(path) - 1
    for anchor in anchors[1:]:
        while anchor.id not in position:
            anchor = anchor.parent
        deepest = min(deepest, position[anchor.id])
    return path[deepest]


def _splice_point(wf: BpmnBaseWorkflow, top: Task) -> Task | None:
    anchors = {t.parent.id: t.parent for t in _subtree(wf, top) if t.has_state(TaskState.NOT_FINISHED_MASK)}
    if not anchors or wf.task_tree.id in anchors:
        return None
    keep = _deepest_common_ancestor(list(anchors.values()))
    return keep if keep is not top and keep.has_state(TaskState.COMPLETED) else None


def _compact_tree(wf: BpmnBaseWorkflow) -> list[UUID]:
    root = wf.task_tree
    dropped: list[UUID] = []
    for index, top in enumerate(root.children):
        keep = _splice_point(wf, top)
        if keep is None:
            continue
        kept = {t.id for t in _subtree(wf, keep)}
        dropped.extend(t.id for t in _subtree(wf, top) if t.id not in kept)
        root._children[index] = keep.id
        keep._parent = root.id
    for task_id in dropped:
        del wf.tasks[task_id]
    if wf.last_task is not None and wf.last_task.id not in wf.tasks:
        # last_task is only a starting point for searches; any finished task that stays will do.
        wf.last_task = wf.tasks.get(root._children[0]) if root._children else root
    return dropped


def _prune_loop_iterations(wf: BpmnBaseWorkflow) -> list[UUID]:
    dropped: list[UUID] = []
    for loop in [t for t in wf.tasks.values() if isinstance(t.task_spec, StandardLoopTask)]:
        if not loop.has_state(TaskState.STARTED):
            continue
        merged = set(loop.internal_data.get("merged", []))
        for child in loop.children:
            if child.triggered and str(child.id) in merged and child.has_state(TaskState.COMPLETED):
                gone = [t.id for t in _subtree(wf, child)]
                loop._children.remove(child.id)
                for task_id in gone:
                    del wf.tasks[task_id]
                dropped.extend(gone)
    return dropped


def _drop_subprocesses(workflow: BpmnWorkflow, task_ids: list[UUID]) -> None:
    queue = [task_id for task_id in task_ids if task_id in workflow.subprocesses]
    while queue:
        sub = workflow.subprocesses.pop(queue.pop(), None)
        if sub is None:
            continue
        for task_id in sub.tasks:
            workflow.event_manager.tasks.pop(task_id, None)
            if task_id in workflow.subprocesses:
                queue.append(task_id)


def _finished_subprocess_owners(workflow: BpmnWorkflow) -> list[UUID]:
    # A subprocess hands its data to its task when it completes; after that nothing reads it.
    owners = []
    for task_id, sub in workflow.subprocesses.items():
        try:
            owner_done = workflow.get_task_from_id(task_id).state == TaskState.COMPLETED
        except TaskNotFoundException:
            owner_done = True  # an orphan: its task is gone already
        if sub.completed and owner_done:
            owners.append(task_id)
    return owners


def compact(workflow: BpmnWorkflow) -> int:
    """Drop finished history that can no longer influence execution; returns how many tasks went."""
    if workflow.completed or any(t.has_state(TaskState.ERROR) for t in all_tasks(workflow)):
        return 0
    count = 0
    for wf in all_workflows(workflow):
        if wf is not workflow and (wf.parent_task_id not in workflow.subprocesses or wf.completed):
            continue  # dropped earlier in this loop, or finished and kept for its parent task
        if isinstance(wf.spec, AdHocSubprocessSpec):
            continue
        dropped = _compact_tree(wf) + _prune_loop_iterations(wf)
        for task_id in dropped:
            workflow.event_manager.tasks.pop(task_id, None)
        _drop_subprocesses(workflow, dropped)
        count += len(dropped)
    _drop_subprocesses(workflow, _finished_subprocess_owners(workflow))
    return count


# ---------------------------------------------------------------------------------------------
# Progress guard
# ---------------------------------------------------------------------------------------------

def _depth(task: Task) -> int:
    depth, current = 0, task.parent
    while current is not None:
        depth, current = depth + 1, current.parent
    return depth


def check_progress(workflow: BpmnWorkflow) -> None:
    """Raise ScriptError when the workflow claims to be done, or is about to stall, while work remains.

    SpiffWorkflow searches its task tree only to depth 1000; deeper tasks are invisible to it, so it
    stops and reports completion. We look at every task directly instead.
    """
    active = [t for t in all_tasks(workflow) if t.has_state(ACTIVE)]
    if active and (workflow.completed or workflow.is_completed()):
        names = sorted({t.task_spec.bpmn_name or t.task_spec.name for t in active})
        raise ScriptError("The engine reports the case as finished, but work is still open: "
                          + ", ".join(names), problems=[Problem("Work is still open.", code="stalled")])
    deepest = max((_depth(t) for t in active), default=0)
    if deepest >= DEPTH_LIMIT:
        raise ScriptError(f"The case's history in the engine is {deepest} steps deep; past 1000 "
                          "SpiffWorkflow stops working. Model the repetition as a standard loop or a "
                          "call activity.", problems=[Problem("History too deep.", code="too_deep")])
