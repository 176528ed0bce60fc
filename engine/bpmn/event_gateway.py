"""An event-based gateway that lets exactly one of its events through, preferring what people did.

The parser builds this instead of SpiffWorkflow's; the serializer restores stored specs into it.
"""

# Why: SpiffWorkflow 3.2.0's gateway follows every event it saw before it ran. A timer that came due
# but was not yet fired by a sweep is seen as soon as the engine refreshes timers, so when the case
# meeting's message arrives in that window both branches run: in woonoverlast the coordinator got
# "Niet-besproken aanmelding oppakken" beside the regie round the meeting had just started (found by
# the year simulation). BPMN lets one event win. We let a message (a decision people recorded) win
# over a timer nobody had fired yet: the timer is the watchdog for exactly the thing that happened.
# Among events of one kind, the first seen wins.

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.defaults import EventBasedGateway as SpiffEventBasedGateway
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.task import Task


def _is_timer(event: Any) -> bool:
    return isinstance(event.event_definition, TimerEventDefinition)


class EventBasedGateway(SpiffEventBasedGateway):
    """bpmn:eventBasedGateway: one outgoing branch, whatever number of its events were seen."""

    def _run_hook(self, my_task: Task) -> bool:
        seen = my_task.internal_data.get("seen_events", [])
        if len(seen) > 1:
            my_task.internal_data["seen_events"] = [next((e for e in seen if not _is_timer(e)), seen[0])]
        return bool(super()._run_hook(my_task))
