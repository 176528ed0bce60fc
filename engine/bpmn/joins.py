"""Parallel and inclusive gateways whose join merges what each branch changed, not whole copies.

The parser builds these instead of SpiffWorkflow's; the serializer restores stored specs into them.
"""

# Why: every branch after a split starts with a copy of the data at the split. SpiffWorkflow 3.2.0's
# join deep-merges the branches' whole data in the order they arrived, so a branch that did not touch
# a variable still carries its old value and, arriving last, overwrites what another branch wrote. In
# woonoverlast the casusregisseur's `vraag` for the evaluation lost against the action branch, which
# still held the referral's question (or the previous round's). Here a branch contributes only the
# variables whose value differs from the data at the split (recursing into dicts); when two branches
# changed the same variable, the one that arrived last wins, as before. Removed variables stay, as before.

from __future__ import annotations

import copy
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.mixins.bpmn_spec_mixin import BpmnSpecMixin
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway as InclusiveMixin
from SpiffWorkflow.bpmn.specs.mixins.parallel_gateway import ParallelGateway as ParallelMixin
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState


def _common_ancestor(tasks: list[Task]) -> Task:
    path: list[Task] = []
    current: Task | None = tasks[0]
    while current is not None:
        path.append(current)
        current = current.parent
    position = {task.id: index for index, task in enumerate(path)}
    lowest = 0
    for task in tasks[1:]:
        climb: Task | None = task
        while climb is not None and climb.id not in position:
            climb = climb.parent
        lowest = max(lowest, position[climb.id]) if climb is not None else len(path) - 1
    return path[lowest]


def merge_changes(into: dict[str, Any], base: dict[str, Any], branch: dict[str, Any]) -> None:
    """Copy into `into` what `branch` changed relative to `base`, the data it started from."""
    for key, value in branch.items():
        if key in base and base[key] == value:
            continue
        if isinstance(value, dict) and isinstance(base.get(key), dict) and isinstance(into.get(key), dict):
            merge_changes(into[key], base[key], value)
        else:
            into[key] = copy.deepcopy(value)


def merge_branches(spec: UnstructuredJoin, my_task: Task) -> None:
    """Set the join's data: the data at the split plus each arrived branch's changes, in arrival order."""
    # The same instances SpiffWorkflow merges: the other finished ones that are not earlier rounds.
    others = sorted((t for t in my_task.workflow.tasks.values()
                     if t.task_spec == spec and t.has_state(TaskState.FINISHED_MASK)
                     and not my_task.is_descendant_of(t)), key=lambda t: t.last_state_change)
    branches = [t.parent for t in others] + [my_task.parent]
    base = _common_ancestor(branches).data
    data = copy.deepcopy(base)
    for branch in branches:
        merge_changes(data, base, branch.data)
    for task in others:
        # As SpiffWorkflow does: after a reset inside a branch, drop what the old branch left behind.
        if task.has_state(TaskState.COMPLETED):
            task._drop_children(force=True)
    my_task.data = data


class ParallelGateway(ParallelMixin, BpmnSpecMixin):
    """bpmn:parallelGateway, joining branch changes."""

    def _run_hook(self, my_task: Task) -> bool:
        merge_branches(self, my_task)
        return True


class InclusiveGateway(InclusiveMixin, BpmnSpecMixin):
    """bpmn:inclusiveGateway, joining branch changes; then chooses its outgoing flows as SpiffWorkflow does."""

    def _run_hook(self, my_task: Task) -> bool:
        merge_branches(self, my_task)
        matches, defaults = self._get_matching_outputs(my_task)
        if len(matches + defaults) == 0:
            raise WorkflowTaskException("No conditions satisfied on gateway", task=my_task)
        my_task._sync_children(matches or defaults, TaskState.FUTURE)
        for child in my_task.children:
            child.task_spec._predict(child, mask=TaskState.FUTURE | TaskState.PREDICTED_MASK)
        return True
