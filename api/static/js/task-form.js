// The task page: render the form with the form-js viewer, submit it as JSON, and show what the
// server refused at the fields it names (and in a list at the top that links to them).
(function () {
  "use strict";

  var button = document.getElementById("complete-task");
  var messages = document.getElementById("task-messages");
  var schemaNode = document.getElementById("task-form-schema");
  var container = document.getElementById("task-form");
  var csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  var form = null;

  function inputOf(field) {
    // form-js gives each input the id fjs-form-<form id>-<field id> (a date input adds "-date").
    var inputs = container.querySelectorAll("input, textarea, select");
    for (var i = 0; i < inputs.length; i++) {
      if (inputs[i].id && inputs[i].id.indexOf("-" + field.id) !== -1) { return inputs[i]; }
    }
    return null;
  }

  function showProblems(text, problems) {
    messages.innerHTML = "";
    var box = document.createElement("div");
    box.className = "flash flash-error error-summary";
    box.setAttribute("role", "alert");
    box.tabIndex = -1;
    var heading = document.createElement("p");
    heading.textContent = text;
    box.appendChild(heading);
    if (problems && problems.length) {
      var list = document.createElement("ul");
      problems.forEach(function (problem) {
        var item = document.createElement("li");
        var words = (problem.label ? problem.label + ": " : "") + problem.message;
        if (problem.input) {
          var link = document.createElement("a");
          link.href = "#" + problem.input.id;
          link.textContent = words;
          link.addEventListener("click", function (event) {
            event.preventDefault();
            problem.input.focus();
          });
          item.appendChild(link);
        } else {
          item.textContent = words;
        }
        list.appendChild(item);
      });
      box.appendChild(list);
    }
    messages.appendChild(box);
    box.focus();
  }

  function describe(field, message) {
    return { label: field.label || field.key, message: message, input: inputOf(field) };
  }

  function showClientErrors(errors) {
    var registry = form.get("formFieldRegistry");
    var problems = Object.keys(errors).map(function (id) {
      var field = registry.get(id.split(",")[0]);
      return field ? describe(field, errors[id][0]) : { message: errors[id][0] };
    });
    showProblems("Het formulier is nog niet compleet: controleer de gemarkeerde velden.", problems);
  }

  function showServerErrors(rows) {
    var byKey = {};
    form.get("formFieldRegistry").getAll().forEach(function (field) {
      if (field.key) { byKey[field.key] = field; }
    });
    var errors = {};
    var problems = rows.map(function (row) {
      var field = byKey[row.field];
      if (!field) { return { label: row.field === "data" ? "" : row.field, message: row.message }; }
      (errors[field.id] = errors[field.id] || []).push(row.message);
      return describe(field, row.message);
    });
    // form-js 1.23 has no public call to set errors; _setState({errors}) is what its own
    // validate() does, keyed by field id, and each field then shows its messages.
    form._setState({ errors: errors });
    showProblems("Het formulier is niet afgerond: controleer de gemarkeerde velden.", problems);
  }

  function submit() {
    var data = {};
    if (form) {
      var result = form.submit();
      if (Object.keys(result.errors).length) { showClientErrors(result.errors); return; }
      data = result.data;
    }
    button.disabled = true;
    button.textContent = "Bezig met afronden…";
    fetch(button.dataset.url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken },
      body: JSON.stringify({ data: data })
    }).then(function (response) {
      var isJson = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
      if (!isJson) {
        return { status: response.status, body: { message: "Je sessie is verlopen. Vernieuw de pagina en log opnieuw in." } };
      }
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    }).then(function (answer) {
      if (answer.status === 200 && answer.body.redirect) {
        window.location.assign(answer.body.redirect);
        return;
      }
      if (answer.status === 422 && answer.body.errors && form) {
        showServerErrors(answer.body.errors);
      } else {
        showProblems(answer.body.message || "Afronden is niet gelukt (" + answer.status + ").");
      }
      button.disabled = false;
      button.textContent = "Afronden";
    }).catch(function () {
      showProblems("De server is niet bereikbaar. Je invoer staat nog in het formulier; probeer het opnieuw.");
      button.disabled = false;
      button.textContent = "Afronden";
    });
  }

  button.addEventListener("click", submit);

  if (schemaNode) {
    // No debounce: otherwise the last keystrokes reach the form's data up to 300 ms late, after a
    // quick click on Afronden, and that late update also wipes the errors the server just set.
    form = new FormViewer.Form({ container: container, debounce: false });
    form.importSchema(JSON.parse(schemaNode.textContent), {}).then(function () {
      KetenregieFormDutch.apply(form, container);
      button.disabled = false;
      container.dataset.ready = "true";
    }).catch(function (error) {
      showProblems("Het formulier kon niet worden getoond: " + error.message);
    });
  }
})();
