// Procesbeheer: the bpmn-js modeler with the Camunda properties panel, deploying the diagram as a new
// version, and showing the server's problems on the elements they concern (marker + badge) and in a list.
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("modeler-data").textContent);
  var csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  var messages = document.getElementById("modeler-messages");
  var deployButton = document.getElementById("deploy");
  var filenameInput = document.getElementById("filename");
  var canvasNode = document.getElementById("modeler-canvas");
  var modeler = null;
  var marked = [];

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  function say(kind, text) {
    messages.innerHTML = "";
    var box = element("div", "flash flash-" + kind);
    box.setAttribute("role", kind === "error" ? "alert" : "status");
    box.appendChild(element("p", null, text));
    messages.appendChild(box);
    return box;
  }

  function clearProblems() {
    if (!modeler) { return; }
    var canvas = modeler.get("canvas");
    modeler.get("overlays").remove({ type: "deploy-problem" });
    marked.forEach(function (id) { canvas.removeMarker(id, "kr-problem"); });
    marked = [];
  }

  function showOnDiagram(shape) {
    modeler.get("selection").select(shape);
    modeler.get("canvas").scrollToElement(shape);
  }

  function showProblems(body) {
    clearProblems();
    var box = say("error", body.message || "Het diagram kan niet in gebruik worden genomen.");
    var problems = body.problems || [];
    if (!problems.length) { return; }
    var registry = modeler.get("elementRegistry");
    var list = element("ol", "problem-list");
    problems.forEach(function (problem) {
      var shape = problem.element ? registry.get(problem.element) : null;
      var item = element("li");
      item.appendChild(element("strong", null, problem.heading));
      var where = shape ? (shape.businessObject.name || shape.id) : problem.element;
      if (where) { item.appendChild(document.createTextNode(" · " + where)); }
      if (problem.line) { item.appendChild(document.createTextNode(" · regel " + problem.line)); }
      var detail = element("span", "problem-detail", problem.message);
      detail.lang = "en";  // the engine's technical detail is English
      item.appendChild(detail);
      if (shape) {
        var button = element("button", "small-button secondary", "Toon in diagram");
        button.type = "button";
        button.addEventListener("click", function () { showOnDiagram(shape); });
        item.appendChild(button);
        if (marked.indexOf(shape.id) === -1) {
          modeler.get("canvas").addMarker(shape.id, "kr-problem");
          var badge = element("span", "kr-badge kr-problem-badge", "fout");
          badge.title = problem.heading;
          modeler.get("overlays").add(shape.id, "deploy-problem", { position: { top: -12, left: -6 }, html: badge });
          marked.push(shape.id);
        }
      }
      list.appendChild(item);
    });
    box.appendChild(list);
  }

  function showDeployed(body) {
    clearProblems();
    var box = say("ok", body.message);
    var links = element("p");
    var download = element("a", null, "Download versie " + body.version);
    download.href = body.download;
    var overview = element("a", null, "Naar het overzicht van versies");
    overview.href = data.listUrl;
    links.appendChild(download);
    links.appendChild(document.createTextNode(" · "));
    links.appendChild(overview);
    box.appendChild(links);
    var base = document.getElementById("base-version");
    if (base) { base.textContent = body.version; }
  }

  function deploy() {
    if (!filenameInput.checkValidity()) {
      say("error", "Geef een bestandsnaam als overlast.bpmn (letters, cijfers, - _ .).");
      filenameInput.focus();
      return;
    }
    deployButton.disabled = true;
    say("info", "Bezig met controleren en in gebruik nemen…");
    modeler.saveXML({ format: true }).then(function (saved) {
      return fetch(data.deployUrl + "?bestandsnaam=" + encodeURIComponent(filenameInput.value), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/xml", "Accept": "application/json", "X-CSRFToken": csrfToken },
        body: saved.xml
      });
    }).then(function (response) {
      var isJson = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
      if (!isJson) { return { status: response.status, body: { message: "Je sessie is verlopen. Vernieuw de pagina." } }; }
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    }).then(function (answer) {
      if (answer.status === 200 || answer.status === 201) { showDeployed(answer.body); } else { showProblems(answer.body); }
    }).catch(function (error) {
      say("error", "In gebruik nemen mislukte: " + (error.message || error));
    }).then(function () {
      deployButton.disabled = false;
    });
  }

  function downloadXml() {
    modeler.saveXML({ format: true }).then(function (saved) {
      var link = element("a");
      link.href = URL.createObjectURL(new Blob([saved.xml], { type: "application/xml" }));
      link.download = filenameInput.value || "diagram.bpmn";
      document.body.appendChild(link);
      link.click();
      link.remove();
    });
  }

  fetch(data.camunda).then(function (response) { return response.json(); }).then(function (camunda) {
    var panel = window.BpmnJSPropertiesPanel;
    modeler = new BpmnJS({
      container: canvasNode,
      // The General group (name, id) open by default: it is what people change most.
      propertiesPanel: { parent: "#properties-panel", layout: { groups: { general: { open: true } } } },
      additionalModules: [panel.BpmnPropertiesPanelModule, panel.BpmnPropertiesProviderModule,
        panel.CamundaPlatformPropertiesProviderModule, window.KetenregieBpmnDutch],
      moddleExtensions: { camunda: camunda }
    });
    window.KetenregieModeler = modeler;  // for the browser console and the UI tests
    return modeler.importXML(data.xml);
  }).then(function (result) {
    modeler.get("canvas").zoom("fit-viewport", "auto");
    if (result.warnings && result.warnings.length) {
      say("info", "Het diagram is geopend met " + result.warnings.length + " waarschuwing(en) van de modeler.");
    }
    deployButton.addEventListener("click", deploy);
    document.getElementById("download-xml").addEventListener("click", downloadXml);
    canvasNode.dataset.ready = "true";
  }).catch(function (error) {
    say("error", "De modeler kon het diagram niet openen: " + (error.message || error));
  });
})();
