/* Every admin page (templates/admin/base_site.html). Django's two-box selector (filter_horizontal:
   an app's teams, a team's members) labels its search icon with aria-label on a bare <span>, which
   assistive technology ignores; as an image it is read. The widget is built on window load, so
   this runs after it. */
(function () {
  "use strict";
  window.addEventListener("load", function () {
    document.querySelectorAll(".search-label-icon[aria-label]:not([role])").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
  });
})();
