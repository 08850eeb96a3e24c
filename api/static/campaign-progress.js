// Progressive enhancement of the campaign page (api/templates/campaigns/detail.html): follow
// the campaign's progress stream (Server-Sent Events) and update the figures in place. Without
// JavaScript or EventSource the page keeps its "Aktualisieren" link.
(function () {
  "use strict";
  var root = document.querySelector("[data-progress-url]");
  if (!root || !window.EventSource) { return; }
  // The page's own status labels (api/pages/campaigns.py STATUS_LABELS).
  var labels = JSON.parse(root.getAttribute("data-labels") || "{}");
  // Its language's decimal mark and closing note (the staff page may be English).
  var decimal = root.getAttribute("data-decimal") || ",";
  var ended = root.getAttribute("data-ended") || "Die Kampagne läuft nicht mehr.";
  var note = root.querySelector(".live-note");
  if (note) { note.hidden = false; }
  var source = new EventSource(root.getAttribute("data-progress-url"));
  source.addEventListener("progress", function (event) {
    var data = JSON.parse(event.data);
    data.status_label = labels[data.status] || data.status;
    root.querySelectorAll("[data-field]").forEach(function (el) {
      var key = el.getAttribute("data-field");
      if (Object.prototype.hasOwnProperty.call(data, key)) {
        el.textContent = String(data[key]).replace(".", decimal);
      }
    });
    var bar = root.querySelector("progress");
    if (bar) { bar.max = data.total || 1; bar.value = data.processed; }
  });
  source.addEventListener("done", function () {
    source.close();
    if (note) { note.textContent = ended; }
  });
  source.addEventListener("session_ended", function () { source.close(); });
})();
