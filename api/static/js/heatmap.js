// The dashboard's heatmap: on the newest diagram, each step coloured by how many cases wait there,
// with the number as a badge (the table below the diagram says the same in words).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("heatmap-data").textContent);
  var status = document.getElementById("heatmap-status");
  var counts = data.counts || {};
  var highest = Object.keys(counts).reduce(function (max, id) { return Math.max(max, counts[id]); }, 0);

  KetenregieDiagram.open("heatmap", data.xml).then(function (viewer) {
    var shown = 0;
    Object.keys(counts).forEach(function (id) {
      var level = Math.max(1, Math.ceil((counts[id] / highest) * 4));
      var found = KetenregieDiagram.mark(viewer, [id], "kr-heat-" + level, counts[id] + " wachtend");
      shown += found.length;
    });
    var total = Object.keys(counts).length;
    if (shown < total) {
      status.textContent = (total - shown) + " stap(pen) met wachtende casussen staan niet in dit diagram (een aangeroepen deelproces of een oudere versie); zie de tabel.";
    }
    document.getElementById("heatmap").dataset.ready = "true";
  }).catch(function (error) {
    status.textContent = KetenregieDiagram.explain(error);
  });
})();
