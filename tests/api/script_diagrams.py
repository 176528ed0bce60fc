"""A one-script diagram for tests of what failing or runaway diagram code does to a case."""

from __future__ import annotations

from xml.sax.saxutils import escape

TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_{key}"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{key}" name="Script {key}" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_corporatie" name="Woningcorporatie">
        <bpmn:flowNodeRef>StartEvent_1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Script_bereken</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_nakijken</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>EndEvent_1</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Script_bereken" />
    <bpmn:scriptTask id="Script_bereken" name="Score berekenen" scriptFormat="python">
      <bpmn:incoming>Flow_1</bpmn:incoming>
      <bpmn:outgoing>Flow_2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Script_bereken" targetRef="Task_nakijken" />
    <bpmn:userTask id="Task_nakijken" name="Nakijken" camunda:formKey="onderzoek"{due}>
      <bpmn:incoming>Flow_2</bpmn:incoming>
      <bpmn:outgoing>Flow_3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_nakijken" targetRef="EndEvent_1" />
    <bpmn:endEvent id="EndEvent_1"><bpmn:incoming>Flow_3</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def script_diagram(key: str, script: str, *, due_date: str | None = None) -> bytes:
    """A process `key`: start, a script task 'Score berekenen' running `script`, a user task
    'Nakijken' (with `due_date` as its camunda:dueDate)."""
    due = f' camunda:dueDate="{escape(due_date, {chr(34): "&quot;"})}"' if due_date else ""
    return TEMPLATE.format(key=key, script=escape(script), due=due).encode()
