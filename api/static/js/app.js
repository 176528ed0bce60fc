// Shared page behaviour: tell the person why an htmx request failed (htmx does not swap error answers).
(function () {
  "use strict";

  function showAlert(text) {
    var region = document.getElementById("page-alert");
    if (!region) {
      region = document.createElement("p");
      region.id = "page-alert";
      region.className = "flash flash-error";
      region.setAttribute("role", "alert");
      document.getElementById("main").prepend(region);
    }
    region.textContent = text;
  }

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var text = xhr.responseText || "";
    showAlert(text && text.length < 300 ? text : "Dit kon niet worden uitgevoerd (" + xhr.status + ").");
  });
  document.addEventListener("htmx:sendError", function () {
    showAlert("De server is niet bereikbaar. Probeer het later opnieuw.");
  });
})();
