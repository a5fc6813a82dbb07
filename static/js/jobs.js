/* The Jobs tables: rows arrive live for every job of the tenant. Hide those the page's filters
   exclude, and give their Cancel/Retry forms this page's CSRF token and address to come back to (live rows are
   rendered without a request, so without either). */
(function () {
  "use strict";
  function refresh() {
    document.querySelectorAll(".jobs-table").forEach(function (table) {
      var token = table.dataset.csrf || "";
      table.querySelectorAll("input[name=csrfmiddlewaretoken]").forEach(function (input) {
        if (!input.value) input.value = token;
      });
      table.querySelectorAll("input[name=next]").forEach(function (input) {
        if (!input.value) input.value = location.pathname + location.search; // back here, filters kept
      });
      if (table.dataset.filterApp === undefined) return;
      var wanted = { app: table.dataset.filterApp, status: table.dataset.filterStatus, user: table.dataset.filterUser };
      table.querySelectorAll("tr.job-row").forEach(function (row) {
        row.hidden = !Object.keys(wanted).every(function (key) { return !wanted[key] || row.dataset[key] === wanted[key]; });
      });
      var empty = document.getElementById("jobs-empty");
      if (empty && table.querySelector("tr.job-row:not([hidden])")) empty.remove();
    });
  }
  document.addEventListener("htmx:oobAfterSwap", refresh);
  document.addEventListener("htmx:wsAfterMessage", refresh);
})();
