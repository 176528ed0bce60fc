// Read-only BPMN diagrams (bpmn-js NavigatedViewer): open one, mark elements, add text badges.
// Used by the case page (state of one case) and the dashboard (where cases wait).
(function () {
  "use strict";

  function open(containerId, xml) {
    var viewer = new BpmnJS({ container: "#" + containerId });
    return viewer.importXML(xml).then(function () {
      viewer.get("canvas").zoom("fit-viewport", "auto");
      bindZoomButtons(viewer, containerId);
      return viewer;
    });
  }

  // Buttons with data-diagram="<container id>" and data-zoom="in|out|fit": zooming without a mouse wheel.
  function bindZoomButtons(viewer, containerId) {
    var canvas = viewer.get("canvas");
    document.querySelectorAll('[data-diagram="' + containerId + '"][data-zoom]').forEach(function (button) {
      button.addEventListener("click", function () {
        var how = button.dataset.zoom;
        if (how === "fit") { canvas.zoom("fit-viewport", "auto"); return; }
        canvas.zoom(canvas.zoom() * (how === "in" ? 1.25 : 0.8));
      });
    });
  }

  // Marks elements with a CSS class and, because colour alone says nothing to everyone, a text badge.
  function mark(viewer, ids, cssClass, badgeText) {
    var registry = viewer.get("elementRegistry");
    var canvas = viewer.get("canvas");
    var overlays = viewer.get("overlays");
    var found = [];
    (ids || []).forEach(function (id) {
      var element = registry.get(id);
      if (!element) { return; }  // e.g. an element of an older version of the diagram
      canvas.addMarker(id, cssClass);
      if (badgeText) {
        var badge = document.createElement("span");
        badge.className = "kr-badge " + cssClass + "-badge";
        badge.textContent = badgeText;
        overlays.add(id, { position: { top: -12, left: -6 }, html: badge });
      }
      found.push(element);
    });
    return found;
  }

  // bpmn-js reports in English; a diagram without a drawing (no BPMN DI) is the common case.
  function explain(error) {
    var text = (error && error.message) || String(error);
    if (/no diagram to display/i.test(text)) {
      return "Dit procesdiagram heeft geen tekening (BPMN DI) en kan daarom niet worden getoond.";
    }
    return "Het diagram kon niet worden getoond (" + text + ").";
  }

  window.KetenregieDiagram = { open: open, mark: mark, explain: explain };
})();
