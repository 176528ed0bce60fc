"""A case's outcome through the API: the result and end event of a completed case, and its variables as
the covenant lets the reader see them."""

from __future__ import annotations

from tests.api.flows import XML, complete, only_item, start

SCRIPTED = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_script" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:collaboration id="Collaboration_script">
    <bpmn:participant id="Participant_script" name="Telling" processRef="telling" />
  </bpmn:collaboration>
  <bpmn:process id="telling" name="Telling" isExecutable="true">
    <bpmn:laneSet id="LaneSet_script">
      <bpmn:lane id="Lane_corporatie" name="Woningcorporatie">
        <bpmn:flowNodeRef>Start_telling</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_brief</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Script_tellen</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>End_geteld</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="Start_telling"><bpmn:outgoing>Flow_a</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Task_brief" name="Brief sturen" camunda:formKey="brief">
      <bpmn:incoming>Flow_a</bpmn:incoming><bpmn:outgoing>Flow_b</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:scriptTask id="Script_tellen" name="Tellen" scriptFormat="python">
      <bpmn:incoming>Flow_b</bpmn:incoming><bpmn:outgoing>Flow_c</bpmn:outgoing>
      <bpmn:script>total = 40 + 2</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="End_geteld" name="Geteld"><bpmn:incoming>Flow_c</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_a" sourceRef="Start_telling" targetRef="Task_brief" />
    <bpmn:sequenceFlow id="Flow_b" sourceRef="Task_brief" targetRef="Script_tellen" />
    <bpmn:sequenceFlow id="Flow_c" sourceRef="Script_tellen" targetRef="End_geteld" />
  </bpmn:process>
</bpmn:definitions>
"""


def _completed_case(client, world):
    deployed = client.post("/api/v1/process-models?filename=telling.bpmn", data=SCRIPTED,
                           headers={**world["pieter"], **XML})
    assert deployed.status_code == 201, deployed.get_json()
    response = client.post("/api/v1/cases", headers=world["eva"],
                           json={"process": "telling", "data": {"titel": "Dorpsstraat 1"}})
    assert response.status_code == 201, response.get_json()
    case_id = response.get_json()["id"]
    done = complete(client, world["eva"], only_item(client, world["eva"])["id"], verzonden_op="2026-03-02",
                    overlast_gestopt=True)
    assert done.status_code == 200, done.get_json()
    return case_id


def test_a_completed_case_gives_its_end_event_and_the_coordinator_sees_a_script_result(client, world):
    case_id = _completed_case(client, world)

    case = client.get(f"/api/v1/cases/{case_id}", headers=world["sanne"]).get_json()

    assert case["status"] == "completed"
    assert case["end_event"] == {"id": "End_geteld", "name": "Geteld"}
    assert case["data"] == {"titel": "Dorpsstraat 1", "verzonden_op": "2026-03-02", "overlast_gestopt": True,
                            "total": 42}
    assert case["shielded"] == []


def test_a_partner_sees_the_categorised_variables_it_may_read_and_not_an_uncategorised_one(client, world):
    case_id = _completed_case(client, world)

    case = client.get(f"/api/v1/cases/{case_id}", headers=world["eva"]).get_json()

    assert case["data"] == {"titel": "Dorpsstraat 1", "verzonden_op": "2026-03-02", "overlast_gestopt": True}
    assert case["shielded"] == ["total"]


def test_an_open_case_has_no_result_or_end_event_and_shows_its_current_variables(client, world):
    case = start(client, world["eva"], titel="Dorpsstraat 2")

    assert case["result"] is None and case["end_event"] is None
    assert case["data"] == {"titel": "Dorpsstraat 2"} and case["shielded"] == []


def test_the_result_and_end_event_of_a_woonoverlast_case_closed_after_the_warning(flow):
    case_id = flow.report_and_investigate()
    flow.do("goedewoning", case_id, "Waarschuwingsbrief versturen", brief_verzonden_op=flow.today().isoformat(),
            afspraken="Woning binnen 14 dagen schoon.")
    assert flow.later(days=15).fired == 1
    flow.do("goedewoning", case_id, "Monitoring beoordelen", overlast_gestopt="ja")
    flow.do("goedewoning", case_id, "Melding afsluiten", resultaat="overlast_beeindigd")

    case = flow.case(case_id)

    assert case["status"] == "completed" and case["result"] == "overlast_beeindigd"
    assert case["end_event"] == {"id": "End_beeindigd", "name": "Overlast beëindigd"}
    assert case["data"]["resultaat"] == "overlast_beeindigd" and case["data"]["kwetsbaar"] == "nee"
