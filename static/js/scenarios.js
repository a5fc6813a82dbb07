/* The Scenarios pages: rows arrive live for every scenario of the tenant. Hide those the list's
   filters exclude; on a scenario's page, read its body again when its row changed (the row is
   swapped by the live "scenarios" topic; the body, with parameters and results, is fetched only
   by the page that shows it). */
(function () {
  "use strict";
  function refresh(evt) {
    document.querySelectorAll(".scenarios-table[data-filter-app]").forEach(function (table) {
      var wanted = { app: table.dataset.filterApp, status: table.dataset.filterStatus };
      table.querySelectorAll("tr.scenario-row").forEach(function (row) {
        row.hidden = !Object.keys(wanted).every(function (key) { return !wanted[key] || row.dataset[key] === wanted[key]; });
      });
      var empty = document.getElementById("scenarios-empty");
      if (empty && table.querySelector("tr.scenario-row:not([hidden])")) empty.remove();
    });
    var detail = document.querySelector(".scenarios-table[data-scenario-detail]");
    var target = evt && evt.detail && evt.detail.target;
    var body = document.getElementById("scenario-body");
    if (detail && body && target && target.id === "scenario-" + detail.dataset.scenarioDetail) {
      htmx.ajax("GET", body.dataset.src, { target: "#scenario-body", swap: "outerHTML" });
    }
  }
  document.addEventListener("htmx:oobAfterSwap", refresh);

  // After its live socket came back, a scenario's page reads its row and its body again: the
  // catch-up the topic sends is the list's, which this page does not have.
  var opened = 0;
  document.addEventListener("htmx:wsOpen", function (evt) {
    if (!evt.target || evt.target.id !== "live-socket" || opened++ === 0) return;
    var detail = document.querySelector(".scenarios-table[data-scenario-detail]");
    var body = document.getElementById("scenario-body");
    if (!detail) return;
    var row = "#scenario-" + CSS.escape(detail.dataset.scenarioDetail);
    htmx.ajax("GET", location.pathname, { target: row, select: row, swap: "outerHTML" });
    if (body) htmx.ajax("GET", body.dataset.src, { target: "#scenario-body", swap: "outerHTML" });
  });
})();
