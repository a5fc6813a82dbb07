/* The live socket of every platform page that is not an app page (docs/notifications.md). htmx's
   WebSocket extension opens it (#live-socket[ws-connect]) and swaps what arrives: toasts, the inbox
   badge, the fragments of the live topics the page names. This file only adds what htmx cannot. */
(function () {
  "use strict";

  // The server's "restarting, reconnect elsewhere" is 4012 (Daphne cannot send the standard 1012):
  // htmx's extension reconnects, with jitter, only after 1006, 1011, 1012 and 1013. The platform
  // never closes this socket with 1000, 1001 or 1005 itself: something in between did (a proxy's
  // idle timeout or restart), and the page should come back to life, not stay dead.
  var RECONNECT_AFTER = { 4012: true, 1000: true, 1001: true, 1005: true };
  htmx.createWebSocket = function (url) {
    var socket = new WebSocket(url, []);
    socket.binaryType = htmx.config.wsBinaryType;
    Object.defineProperty(socket, "onclose", {
      set: function (listener) {
        socket.addEventListener("close", function (event) {
          if (!RECONNECT_AFTER[event.code]) return listener(event);
          listener(new CloseEvent("close", { code: 1012, reason: event.reason, wasClean: event.wasClean }));
        });
      }
    });
    return socket;
  };

  // A topic's fragments go to every page that names it: the Jobs list and a job's own page both
  // follow "jobs", and each shows only some of the rows and outcomes. A fragment whose target this
  // page does not have is left out before htmx swaps (htmx logs an error for each one).
  htmx.defineExtension("shown-only", {
    transformResponse: function (text) {
      if (text.indexOf("hx-swap-oob") < 0) return text;
      var template = document.createElement("template");
      template.innerHTML = text;
      var changed = false;
      Array.prototype.slice.call(template.content.children).forEach(function (node) {
        var oob = node.getAttribute("hx-swap-oob");
        if (!oob) return;
        var colon = oob.indexOf(":");
        var selector = colon >= 0 ? oob.slice(colon + 1) : (node.id ? "#" + CSS.escape(node.id) : "");
        var shown = false;
        try { shown = !selector || !!document.querySelector(selector); } catch (e) { shown = true; }
        if (shown) return;
        changed = true;
        // A row this page left out (a filtered list: a scenario that was not "completed" when it
        // loaded) may belong now: it goes first in the list that names it (the most recently
        // changed first), and the page's own script shows or hides it by its filters.
        var into = node.getAttribute("data-live-insert");
        var list = into && document.querySelector(into);
        if (!list) { node.remove(); return; }
        var wrapper = document.createElement(list.tagName.toLowerCase());
        wrapper.setAttribute("hx-swap-oob", "afterbegin:" + into);
        node.removeAttribute("hx-swap-oob");
        node.parentNode.insertBefore(wrapper, node);
        wrapper.appendChild(node);
      });
      return changed ? template.innerHTML : text;
    }
  });

  document.addEventListener("htmx:wsOpen", function (evt) {
    if (evt.target && evt.target.id === "live-socket") document.documentElement.dataset.live = "open";
  });
  // Closed for good (signed out in another tab, access taken away): the page stops updating, and
  // says so where it starts, instead of showing live tables that are no longer live.
  var FINAL_TEXT = {
    4401: "You are signed out, so this page no longer updates.",
    4403: "You no longer have access here, so this page no longer updates."
  };
  document.addEventListener("htmx:wsClose", function (evt) {
    if (!evt.target || evt.target.id !== "live-socket") return;
    document.documentElement.dataset.live = "closed";
    var code = evt.detail.event && evt.detail.event.code;
    if (FINAL_TEXT[code]) showFinal(FINAL_TEXT[code], code === 4401);
  });

  function showFinal(text, signIn) {
    var main = document.getElementById("main");
    if (!main || document.getElementById("live-status")) return;
    var status = document.createElement("p");
    status.id = "live-status";
    status.className = "connection-status final";
    status.setAttribute("role", "alert");
    status.textContent = text + " ";
    var link = document.createElement("a");
    link.href = signIn ? "/accounts/login/?next=" + encodeURIComponent(location.pathname + location.search) : "/";
    link.textContent = signIn ? "Sign in again" : "Go to your tenants";
    status.appendChild(link);
    main.insertBefore(status, main.firstChild);
  }

  // A new notification or a mark-as-read elsewhere changed the badge: parts of the page that list
  // notifications (the inbox) listen for "inbox-changed" and read themselves again.
  document.addEventListener("htmx:wsAfterMessage", function (evt) {
    var message = evt.detail && evt.detail.message;
    if (typeof message === "string" && message.indexOf('id="inbox-badge"') >= 0) {
      document.body.dispatchEvent(new CustomEvent("inbox-changed", { bubbles: true }));
    }
  });
})();
