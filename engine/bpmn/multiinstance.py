"""Multi-instance task specs whose input and output items belong to one instance, so loops work.

The parser builds these instead of SpiffWorkflow's; the serializer restores stored specs into them.
"""

# Why: SpiffWorkflow 3.2.0 treats the input/output item of a multi-instance task as task data like any
# other. Without an output collection every finished instance is deep-merged into the multi-instance
# task, item included, and from there into everything after it. The next instance (sequential) or the
# next run of the task (any loop: gateway, standard loop, call activity) then finds the item in the
# data it inherits and refuses to start: "Multiinstance input item actie already exists". Likewise a
# list output collection from the previous run makes the next run fail ("the output must be empty"),
# and with loopCardinality SpiffWorkflow crashes on the existing output (a NameError in 3.2.0).
#
# BPMN means the items as the instance's own data, and the output collection as what one run of the
# task produces. So, per run of a multi-instance task:
# - on start, a variable that has an item's name is set aside (shadowed), so instances see only their
#   own item; it comes back unchanged when the task completes. Cases saved by earlier versions carry a
#   leaked item in their data; it is shadowed the same way, so they run on.
# - an output collection that is not the input collection (updated in place) starts empty;
# - finished instances are merged back without their item variables, and (as at our joins, see
#   joins.py) only with what they changed: parallel instances all start from the data at the start of
#   the run, so an instance that left a variable alone must not overwrite what another one wrote.

from __future__ import annotations

import copy
from typing import Any

from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.bpmn.specs.mixins import multiinstance_task as mixins
from SpiffWorkflow.spiff.specs.spiff_task import SpiffBpmnTask

from engine.bpmn.joins import merge_changes

# Where a run keeps the outer values of the variables its items shadow (internal data is saved too).
SHADOWED_KEY = "ketenregie_shadowed"
# The data parallel instances started from, while they run (only when instances are merged back whole).
BASE_KEY = "ketenregie_instance_base"


class _InstanceScopedItems(mixins.MultiInstanceTask):
    """Sits between SpiffWorkflow's sequential/parallel mixins and MultiInstanceTask in the MRO."""

    def instance_variables(self) -> set[str]:
        return {item.bpmn_id for item in (self.input_item, self.output_item) if item is not None}

    def _update_hook(self, my_task: Any) -> Any:
        # Runs after the task inherited its data and before the mixin creates the first instance.
        ready = super()._update_hook(my_task)
        shadowed = {name: my_task.data.pop(name) for name in sorted(self.instance_variables()) if name in my_task.data}
        if shadowed:
            my_task.internal_data[SHADOWED_KEY] = shadowed
        output, source = self.data_output, self.data_input
        in_place = source is not None and output is not None and output.bpmn_id == source.bpmn_id
        if isinstance(output, TaskDataReference) and not in_place:
            my_task.data.pop(output.bpmn_id, None)
        if isinstance(self, mixins.ParallelMultiInstanceTask) and not self._collects_output():
            my_task.internal_data[BASE_KEY] = copy.deepcopy(my_task.data)
        return ready

    def _collects_output(self) -> bool:
        return self.data_output is not None and self.output_item is not None

    def merge_child(self, workflow: Any, child: Any) -> None:
        if self._collects_output():
            # Only the output item goes into the output collection; nothing else is merged.
            super().merge_child(workflow, child)
            return
        my_task = child.parent
        local = self.instance_variables()
        # A sequential instance started from the task's data as it is now (one instance at a time).
        base = my_task.internal_data.get(BASE_KEY, my_task.data)
        merge_changes(my_task.data, base, {key: value for key, value in child.data.items() if key not in local})
        my_task.internal_data["merged"].append(str(child.id))

    def _on_complete_hook(self, my_task: Any) -> None:
        # Before the tasks after this one inherit its data.
        my_task.internal_data.pop(BASE_KEY, None)
        for name, value in my_task.internal_data.pop(SHADOWED_KEY, {}).items():
            my_task.data.setdefault(name, value)
        super()._on_complete_hook(my_task)


# Same class names as SpiffWorkflow's, so specs stored before this module existed restore into these.
class ParallelMultiInstanceTask(mixins.ParallelMultiInstanceTask, _InstanceScopedItems, SpiffBpmnTask):
    """A parallel multi-instance task (spiff dialect) with instance-scoped items."""


class SequentialMultiInstanceTask(mixins.SequentialMultiInstanceTask, _InstanceScopedItems, SpiffBpmnTask):
    """A sequential multi-instance task (spiff dialect) with instance-scoped items."""
