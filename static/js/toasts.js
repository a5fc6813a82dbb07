/* Toasts on every signed-in page (docs/notifications.md): the server renders them into the
   #dashboards-toasts-<position> containers through htmx out-of-band swaps; this file times them
   out after data-duration ms (0: until dismissed), pauses the timer while pointed at or focused,
   dismisses them with their button or Escape, keeps each stack short, keeps the top corners'
   stacks below the header, and fades a stack that covers the control holding keyboard focus
   (WCAG 2.4.11: at 200 % zoom a stack spans most of the window). */
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
        // The oldest goes first, an info or success before any warning or error: a burst of
        // "done" toasts pushed out the one warning that said most of the clicks were dropped.
        (stack.querySelector(":scope > .toast-info, :scope > .toast-success") || stack.firstElementChild).remove();
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

  // A stack over the focused control fades and lets clicks through (platform.css, .toasts-yield)
  // until focus moves elsewhere or the page scrolls the control out from under it.
  function yieldToFocus() {
    var active = document.activeElement;
    var focused = active && active !== document.body && active !== document.documentElement ? active : null;
    var box = null; // measured only when a stack shows toasts: no layout work on a page without
    document.querySelectorAll(".toasts").forEach(function (stack) {
      var covers = false;
      if (focused && stack.children.length && !stack.contains(focused)) {
        box = box || focused.getBoundingClientRect();
        var over = stack.getBoundingClientRect();
        covers = box.left < over.right && box.right > over.left && box.top < over.bottom && box.bottom > over.top;
      }
      stack.classList.toggle("toasts-yield", covers);
    });
  }
  document.addEventListener("focusin", yieldToFocus);
  document.addEventListener("focusout", function () { setTimeout(yieldToFocus, 0); });
  window.addEventListener("scroll", yieldToFocus, { passive: true });
  window.addEventListener("resize", yieldToFocus);
  document.addEventListener("DOMContentLoaded", function () {
    var watch = new MutationObserver(yieldToFocus); // a toast arrives over it, or goes
    document.querySelectorAll(".toasts").forEach(function (stack) { watch.observe(stack, { childList: true }); });
  });

  document.addEventListener("htmx:wsAfterMessage", armToasts);
  document.addEventListener("htmx:oobAfterSwap", armToasts);
  document.addEventListener("htmx:afterSettle", armToasts);
  document.addEventListener("DOMContentLoaded", armToasts);

  window.dashboardsToasts = { arm: armToasts };
})();
