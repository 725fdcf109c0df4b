// Autosave for quiz attempts: every change is sent to the server at once (the page works
// without this script: "Save answers" posts the same form). When the connection drops,
// the answers stay in the page and are sent again on the next change or when the browser
// is back online, so nothing typed is lost.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave]");
  if (!form) { return; }
  var status = form.querySelector("[data-autosave-status]");
  var timer = null;
  var dirty = false;
  var sending = false;

  function say(text) { if (status) { status.textContent = text; } }

  function send() {
    if (sending) { dirty = true; return; }
    var data = new FormData(form);
    form.querySelectorAll("input[type=file]").forEach(function (input) { data.delete(input.name); });
    data.set("action", "autosave");
    sending = true;
    dirty = false;
    // getAttribute: the form's buttons are named "action", which shadows form.action
    fetch(form.getAttribute("action"), { method: "POST", body: data, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        say(form.dataset.saved);
      })
      .catch(function () { dirty = true; say(form.dataset.failed); })
      .finally(function () {
        sending = false;
        if (dirty && navigator.onLine) { schedule(3000); }
      });
  }

  function schedule(delay) {
    window.clearTimeout(timer);
    timer = window.setTimeout(send, delay);
  }

  form.addEventListener("change", function (event) {
    if (event.target.type !== "file") { schedule(0); }
  });
  form.addEventListener("input", function (event) {
    if (event.target.type !== "file") { schedule(1500); }
  });
  window.addEventListener("online", function () { if (dirty) { schedule(0); } });
})();
