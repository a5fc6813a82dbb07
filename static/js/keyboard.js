/* Keyboard use on every signed-in page: focus across htmx's swaps, and the header's menus.

   The header's menus (the tenant switcher, a <details>) close as menus do: with Escape (focus goes
   back to the menu's button) and with a click or focus outside them. They stayed open over the
   page's title.

   Keyboard focus across htmx's out-of-band swaps (docs/protocol.md). A component, a job's row or
   the inbox is replaced whole when the server sends it again: the element that had focus is gone
   and focus fell to <body>, so a keyboard user pressing ArrowDown in a select, Enter in a field
   whose value the app corrected, or a row's button, lost their place. Before each message the
   focused element is noted (its id, or the id of the nearest element with one and its tag); after
   the swap, if focus fell to <body>, the element that took its place gets it back, with its text
   selection; when nothing took its place, the first control of its holder, or the holder. */
(function () {
  "use strict";
  // One note per kind of swap: a socket's message may come while a request's swap waits to settle
  // (the inbox's "Mark as read" pushes the badge at once), and a shared note was then overwritten
  // with "nothing focused" (the button had just gone), so focus stayed on <body>.
  var noted = { message: null, request: null };
  var FOCUSABLE = "a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled])";

  function note(kind) {
    var active = document.activeElement;
    if (!active || active === document.body || active === document.documentElement) { noted[kind] = null; return; }
    var holder = active.id ? active : active.parentElement && active.parentElement.closest("[id]");
    if (!holder) { noted[kind] = null; return; }
    var selection = null;
    try {
      if (typeof active.selectionStart === "number") selection = [active.selectionStart, active.selectionEnd];
    } catch (e) { selection = null; }  // a type without a text selection (number)
    noted[kind] = { id: active.id, holder: holder.id, tag: active.tagName, selection: selection };
  }

  function restore(kind) {
    var was = noted[kind];
    noted[kind] = null;
    var active = document.activeElement;
    if (!was || (active && active !== document.body && active !== document.documentElement)) return;
    var target = was.id ? document.getElementById(was.id) : null;
    var holder = document.getElementById(was.holder);
    if (!target && holder) {
      target = holder.tagName === was.tag ? holder : holder.querySelector(was.tag);
    }
    if (!target && holder && holder !== document.body) {
      // The control went with the swap (an inbox row's "Mark as read" once it is read): the
      // user stays where they were, on what the holder still offers, or on the holder itself.
      target = holder.querySelector(FOCUSABLE);
      if (!target) {
        if (!holder.hasAttribute("tabindex")) holder.setAttribute("tabindex", "-1");
        target = holder;
      }
    }
    if (!target || typeof target.focus !== "function") return;
    target.focus({ preventScroll: true });
    if (was.selection) {
      try { target.setSelectionRange(was.selection[0], was.selection[1]); } catch (e) { /* not a text field */ }
    }
  }

  function openMenus() { return document.querySelectorAll(".topbar details[open]"); }
  document.addEventListener("keydown", function (evt) {
    if (evt.key !== "Escape") return;
    openMenus().forEach(function (menu) {
      var inside = menu.contains(document.activeElement);
      menu.open = false;
      if (inside) menu.querySelector("summary").focus();
    });
  });
  function closeMenusOutside(evt) {
    openMenus().forEach(function (menu) { if (!menu.contains(evt.target)) menu.open = false; });
  }
  document.addEventListener("click", closeMenusOutside);
  document.addEventListener("focusin", closeMenusOutside);

  document.addEventListener("htmx:wsBeforeMessage", function () { note("message"); });
  document.addEventListener("htmx:wsAfterMessage", function () { restore("message"); });
  // The inbox's own swaps (hx-post, outerHTML), which settle a moment after they swap.
  document.addEventListener("htmx:beforeSwap", function () { note("request"); });
  document.addEventListener("htmx:afterSettle", function () { restore("request"); });
})();
