// Formulieren: the form-js editor on a form from forms/, a server-side check, and a download.
(function () {
  "use strict";

  var container = document.getElementById("form-editor");
  var messages = document.getElementById("form-messages");
  var csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  var editor = new FormEditor.FormEditor({ container: container });

  function say(kind, text, items) {
    messages.innerHTML = "";
    var box = document.createElement("div");
    box.className = "flash flash-" + kind;
    box.setAttribute("role", kind === "error" ? "alert" : "status");
    var line = document.createElement("p");
    line.textContent = text;
    box.appendChild(line);
    if (items && items.length) {
      var list = document.createElement("ul");
      items.forEach(function (text) {
        var item = document.createElement("li");
        item.textContent = text;
        list.appendChild(item);
      });
      box.appendChild(list);
    }
    messages.appendChild(box);
  }

  function check() {
    fetch(container.dataset.checkUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken },
      body: JSON.stringify(editor.saveSchema())
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (answer) {
      if (answer.ok) { say("ok", answer.body.message); return; }
      say("error", answer.body.message, (answer.body.problems || []).map(function (p) { return p.message; }));
    }).catch(function () {
      say("error", "Controleren is niet gelukt; vernieuw de pagina en probeer het opnieuw.");
    });
  }

  function download() {
    var button = document.getElementById("download-form");
    var link = document.createElement("a");
    var text = JSON.stringify(editor.saveSchema(), null, 2) + "\n";
    link.href = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    link.download = button.dataset.filename;
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  editor.importSchema(JSON.parse(document.getElementById("form-definition").textContent)).then(function () {
    document.getElementById("check-form").addEventListener("click", check);
    document.getElementById("download-form").addEventListener("click", download);
    container.dataset.ready = "true";
  }).catch(function (error) {
    say("error", "De editor kon het formulier niet openen: " + (error.message || error));
  });
})();
