/* Every admin page (templates/admin/base_site.html): names Django's admin widgets leave out for
   screen readers (axe-core). Django's two-box selector (filter_horizontal: an app's teams, a
   team's members) labels its search icon with aria-label on a bare <span>, which assistive
   technology ignores; as an image it is read. The widget is built on window load, so this runs
   after it. */
(function () {
  "use strict";
  window.addEventListener("load", function () {
    document.querySelectorAll(".search-label-icon[aria-label]:not([role])").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
    // A date and time field (a user's last login, say) shows "Date:" and "Time:" as bare text
    // beside its two boxes, under a <label> tied to neither: each box is named "Last login, date"
    // and "Last login, time".
    document.querySelectorAll("p.datetime input").forEach(function (box) {
      if (box.labels && box.labels.length) return;
      var row = box.closest(".form-row");
      var label = row && row.querySelector("label");
      var field = label ? label.textContent.trim().replace(/:$/, "") : "";
      var part = /_1$/.test(box.id) ? "time" : "date";
      box.setAttribute("aria-label", field ? field + ", " + part : part);
    });
  });
})();
