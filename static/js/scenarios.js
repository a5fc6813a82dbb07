/* The Scenarios pages: rows arrive live for every scenario of the tenant. Hide those the list's
   filters exclude; on a scenario's page, read its body again when its row changed (the row and
   the heading are swapped by the live "scenarios" topic; the body, with parameters and results,
   is fetched only by the page that shows it). When the scenario is deleted, the topic removes its
   row and fills the notice at the top of its page: the page then stops, since there is nothing
   left to read (a re-fetch would answer 404). */
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
    if (!detail) return;
    var id = "scenario-" + detail.dataset.scenarioDetail;
    var notice = document.getElementById(id + "-deleted");
    if (notice && !notice.hidden) return showDeleted(detail);
    var heading = document.getElementById(id + "-heading");
    if (heading && heading.dataset.title) document.title = heading.dataset.title; // renamed elsewhere
    var target = evt && evt.detail && evt.detail.target;
    var body = document.getElementById("scenario-body");
    // Only while its row is there: a removed row (deleted) has no body to read.
    if (body && target && target.id === id && document.getElementById(id)) {
      htmx.ajax("GET", body.dataset.src, { target: "#scenario-body", swap: "outerHTML" });
    }
  }
  document.addEventListener("htmx:oobAfterSwap", refresh);

  // What showed the scenario is hidden (hidden, not removed: a body being swapped may still hold
  // its place); the heading stays, to say which it was.
  function showDeleted(detail) {
    var scroll = detail.closest(".table-scroll") || detail;
    var body = document.getElementById("scenario-body");
    if (scroll.hidden) return;
    scroll.hidden = true;
    if (body) body.hidden = true;
    document.title = "Deleted: " + document.title;
  }

  // After its live socket came back, or when the topic sends the whole list again (a gap, or a
  // change of what the user may see), a scenario's page reads its body, then its row and heading
  // again: the list is not what this page shows. A scenario deleted meanwhile, or no longer open
  // to the user, answers its body with the notice, and nothing more is read.
  var opened = 0;
  document.addEventListener("htmx:wsOpen", function (evt) {
    if (!evt.target || evt.target.id !== "live-socket" || opened++ === 0) return;
    reread();
  });
  document.addEventListener("htmx:oobAfterSwap", function (evt) {
    var target = evt.detail && evt.detail.target;
    if (target && target.id === "scenarios-reread") reread();
  });

  // One at a time: htmx drops a request for an element that has one under way and resolves it at
  // once, so a second reading would go on to the row before the first had said whether it is gone.
  var rereading = false, again = false;
  function reread() {
    var detail = document.querySelector(".scenarios-table[data-scenario-detail]");
    var body = document.getElementById("scenario-body");
    if (!detail || !body || detail.closest("[hidden]")) return;
    if (rereading) { again = true; return; }
    rereading = true;
    var row = "#scenario-" + CSS.escape(detail.dataset.scenarioDetail);
    htmx.ajax("GET", body.dataset.src, { target: "#scenario-body", swap: "outerHTML" }).then(function () {
      if (detail.closest("[hidden]") || !document.querySelector(row)) return;
      return htmx.ajax("GET", location.pathname, { target: row, select: row, swap: "outerHTML", selectOOB: row + "-heading" });
    }).finally(function () {
      rereading = false;
      if (again) { again = false; reread(); }
    });
  }
})();
