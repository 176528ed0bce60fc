// Dutch for the few English texts form-js 1.23 writes itself: client-side validation messages and
// placeholders. form-js has no translation hook for these, so the validator's answers are mapped
// and placeholder attributes replaced after each render.
(function () {
  "use strict";

  var MESSAGES = [
    [/^Field is required\.$/, "Dit veld is verplicht."],
    [/^Field must have minimum length of (.+)\.$/, "Moet minstens $1 tekens lang zijn."],
    [/^Field must have maximum length of (.+)\.$/, "Mag hoogstens $1 tekens lang zijn."],
    [/^Field must have minimum value of (.+)\.$/, "Moet minstens $1 zijn."],
    [/^Field must have maximum value of (.+)\.$/, "Mag hoogstens $1 zijn."],
    [/^Field must match pattern .*$/, "Dit heeft niet de verwachte vorm."],
    [/^Field must be a valid email\.$/, "Vul een geldig e-mailadres in."],
    [/^Field must be a valid\s+international phone number.*$/, "Vul een internationaal telefoonnummer in, zoals +31701234567."]
  ];
  var PLACEHOLDERS = { "Search": "Zoeken" };

  function message(text) {
    for (var i = 0; i < MESSAGES.length; i++) {
      if (MESSAGES[i][0].test(text)) { return text.replace(MESSAGES[i][0], MESSAGES[i][1]); }
    }
    return text;
  }

  function translateValidator(form) {
    var validator = form.get("validator");
    ["validateField", "validateFieldInstance"].forEach(function (name) {
      var original = validator[name];
      if (typeof original !== "function") { return; }
      validator[name] = function () {
        return original.apply(validator, arguments).map(message);
      };
    });
  }

  // Only attributes are changed: text nodes belong to form-js's renderer (preact), which keeps
  // references to them. The select's "Select" text is replaced in CSS (app.css) instead.
  function translatePlaceholders(container) {
    container.querySelectorAll("input[placeholder]").forEach(function (node) {
      var text = node.getAttribute("placeholder");
      if (PLACEHOLDERS[text]) { node.setAttribute("placeholder", PLACEHOLDERS[text]); }
    });
  }

  // Call after importSchema: translates now and after every re-render of the form.
  function apply(form, container) {
    translateValidator(form);
    translatePlaceholders(container);
    new MutationObserver(function () { translatePlaceholders(container); })
      .observe(container, { childList: true, subtree: true });
  }

  window.KetenregieFormDutch = { apply: apply, message: message };
})();
