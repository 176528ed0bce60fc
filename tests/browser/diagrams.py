"""The test diagram (tests/fixtures/processes/overlast_test.bpmn) with a drawing added.

The fixture holds only the process, which the engine needs; bpmn-js needs the BPMN DI shapes and
edges to draw it. They are added here so the pages can be tested with a diagram people can see.
"""

from __future__ import annotations

from pathlib import Path

SOURCE = (Path(__file__).parent.parent / "fixtures" / "processes" / "overlast_test.bpmn").read_text(encoding="utf-8")

NAMESPACES = (
    'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
    'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
    'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
)

# id -> (x, y, width, height)
SHAPES = {
    "Participant_1": (160, 80, 860, 440),
    "Lane_corporatie": (190, 80, 830, 200),
    "Lane_gemeente": (190, 280, 830, 240),
    "Start_melding": (222, 152, 36, 36),
    "Task_onderzoek": (310, 130, 100, 80),
    "Gateway_ernstig": (465, 145, 50, 50),
    "Task_brief": (580, 130, 100, 80),
    "Timer_brief": (612, 192, 36, 36),
    "Task_advies": (580, 300, 100, 80),
    "Task_escaleren": (760, 410, 100, 80),
    "End_opgelost": (932, 322, 36, 36),
    "End_geescaleerd": (932, 432, 36, 36),
}
EDGES = {
    "Flow_1": [(258, 170), (310, 170)],
    "Flow_2": [(410, 170), (465, 170)],
    "Flow_ernstig": [(490, 195), (490, 340), (580, 340)],
    "Flow_licht": [(515, 170), (580, 170)],
    "Flow_advies_klaar": [(680, 340), (932, 340)],
    "Flow_brief_klaar": [(680, 170), (950, 170), (950, 322)],
    "Flow_te_laat": [(630, 228), (630, 250), (720, 250), (720, 450), (760, 450)],
    "Flow_escalatie_klaar": [(860, 450), (932, 450)],
}


def _shape(element: str, x: int, y: int, width: int, height: int) -> str:
    extra = ' isHorizontal="true"' if element.startswith(("Participant", "Lane")) else ""
    return (f'<bpmndi:BPMNShape id="{element}_di" bpmnElement="{element}"{extra}>'
            f'<dc:Bounds x="{x}" y="{y}" width="{width}" height="{height}" /></bpmndi:BPMNShape>')


def _edge(element: str, points: list[tuple[int, int]]) -> str:
    waypoints = "".join(f'<di:waypoint x="{x}" y="{y}" />' for x, y in points)
    return f'<bpmndi:BPMNEdge id="{element}_di" bpmnElement="{element}">{waypoints}</bpmndi:BPMNEdge>'


def with_drawing(source: str = SOURCE) -> str:
    drawing = (
        '<bpmndi:BPMNDiagram id="BPMNDiagram_1"><bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="Collaboration_1">'
        + "".join(_shape(e, *bounds) for e, bounds in SHAPES.items())
        + "".join(_edge(e, points) for e, points in EDGES.items())
        + "</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>"
    )
    return (source.replace("<bpmn:definitions ", "<bpmn:definitions " + NAMESPACES, 1)
            .replace("</bpmn:definitions>", drawing + "\n</bpmn:definitions>"))


DRAWN_DIAGRAM = with_drawing().encode("utf-8")
