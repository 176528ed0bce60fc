// The case page's diagram: passed, active, waiting and failed elements marked.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("case-diagram-data").textContent);
  var status = document.getElementById("diagram-status");
  KetenregieDiagram.open("case-diagram", data.xml).then(function (viewer) {
    KetenregieDiagram.mark(viewer, data.completed, "kr-completed", "✓");
    KetenregieDiagram.mark(viewer, data.waiting, "kr-waiting", "wacht");
    var active = KetenregieDiagram.mark(viewer, data.active, "kr-active", "nu");
    KetenregieDiagram.mark(viewer, data.error, "kr-error", "fout");
    status.textContent = active.length
      ? "Nu actief: " + active.map(function (e) { return e.businessObject.name || e.id; }).join(", ") + "."
      : "Er is nu geen actieve stap.";
    document.getElementById("case-diagram").dataset.ready = "true";
  }).catch(function (error) {
    status.textContent = KetenregieDiagram.explain(error);
  });
})();
