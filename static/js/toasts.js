/* Toasts on every signed-in page (docs/notifications.md): the server renders them into the
   #dashboards-toasts-<position> containers through htmx out-of-band swaps; this file times them
   out after data-duration ms (0: until dismissed), pauses the timer while pointed at or focused,
   dismisses them with their button or Escape, keeps each stack short, and keeps the top corners'
   stacks below the header. */
(function () {
  "use strict";
  var MAX_PER_STACK = 5;

  function startTimer(toast) {
    var ms = parseInt(toast.dataset.duration || "0", 10);
    if (ms > 0) toast._timer = setTimeout(function () { toast.remove(); }, ms);
  }

  function stopTimer(toast) {
    if (toast._timer) clearTimeout(toast._timer);
    toast._timer = null;
  }

  function armToasts() {
    document.querySelectorAll(".toast:not([data-armed])").forEach(function (toast) {
      toast.setAttribute("data-armed", "");
      startTimer(toast);
      var stack = toast.parentElement;
      while (stack && stack.classList.contains("toasts") && stack.children.length > MAX_PER_STACK) {
        stack.firstElementChild.remove(); // the oldest goes first
      }
    });
  }

  function pause(evt) {
    var toast = evt.target.closest && evt.target.closest(".toast[data-armed]");
    if (toast) stopTimer(toast);
  }

  function resume(evt) {
    var toast = evt.target.closest && evt.target.closest(".toast[data-armed]");
    if (!toast || toast._timer) return;
    var into = evt.relatedTarget;
    if (into && toast.contains(into)) return;
    startTimer(toast);
  }

  // Dismissed from the keyboard, a toast hands focus on: to the next toast's button, or back to
  // where the user was before they went into the toasts (it fell to <body> and Tab restarted).
  var focusedBefore = null;
  document.addEventListener("focusin", function (evt) {
    if (!(evt.target.closest && evt.target.closest(".toast"))) focusedBefore = evt.target;
  });

  function dismiss(toast) {
    var hadFocus = toast.contains(document.activeElement);
    var next = toast.nextElementSibling || toast.previousElementSibling;
    toast.remove();
    if (!hadFocus) return;
    var button = next && next.querySelector(".toast-close");
    var back = button || (focusedBefore && document.contains(focusedBefore) ? focusedBefore : null);
    if (back) back.focus({ preventScroll: true });
  }

  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest(".toast-close");
    if (button) dismiss(button.closest(".toast"));
  });
  document.addEventListener("keydown", function (evt) {
    var toast = evt.key === "Escape" && evt.target.closest && evt.target.closest(".toast");
    if (toast) dismiss(toast);
  });
  document.addEventListener("mouseover", pause);
  document.addEventListener("focusin", pause);
  document.addEventListener("mouseout", resume);
  document.addEventListener("focusout", resume);

  // The top corners' stacks start below the header (platform.css): its height, measured again
  // whenever it changes (it wraps onto more lines in a narrow window).
  function measureHeader() {
    var header = document.querySelector(".topbar");
    if (header) document.documentElement.style.setProperty("--topbar-height", header.offsetHeight + "px");
  }
  document.addEventListener("DOMContentLoaded", function () {
    measureHeader();
    var header = document.querySelector(".topbar");
    if (header && window.ResizeObserver) new ResizeObserver(measureHeader).observe(header);
  });

  document.addEventListener("htmx:wsAfterMessage", armToasts);
  document.addEventListener("htmx:oobAfterSwap", armToasts);
  document.addEventListener("htmx:afterSettle", armToasts);
  document.addEventListener("DOMContentLoaded", armToasts);

  window.dashboardsToasts = { arm: armToasts };
})();
