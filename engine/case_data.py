"""A case's variables as its workflow holds them now, and the end event a completed case reached.

Read-only views on a loaded workflow; what a reader may see of the variables is decided by
engine.disclosure under the covenant.
"""

from __future__ import annotations

import json
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.util.task import TaskState

_CURRENT = TaskState.READY | TaskState.WAITING | TaskState.STARTED


def end_event_of(workflow: Any) -> str | None:
    """The id of the end event of the case's own process that completed last (not a called process's)."""
    ends = [t for t in workflow.get_tasks(state=TaskState.COMPLETED)
            if t.workflow is workflow and isinstance(t.task_spec, EndEvent)]
    return max(ends, key=lambda t: t.last_state_change).task_spec.bpmn_id if ends else None


def variables_of(workflow: Any) -> dict[str, Any]:
    """The case variables: the process's result data once completed, else the data of the tasks where
    the case is now (newest last, so a later value wins). Values are made plain JSON."""
    if workflow.is_completed():
        data = dict(workflow.data or {})
    else:
        data = {}
        for task in sorted(workflow.get_tasks(state=_CURRENT), key=lambda t: t.last_state_change):
            data.update(task.data or {})
    return {key: json.loads(json.dumps(value, default=str)) for key, value in data.items()
            if isinstance(key, str) and not key.startswith("_")}
