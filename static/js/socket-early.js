/* Opens the tab's socket while the page's scripts are still downloading, so that the connect (sign-in
   and access checks, the session's state) overlaps them instead of following them. Inlined into the
   app page's head (the Content-Security-Policy allows it by its hash); dashboards.js hands the socket
   to htmx's WebSocket extension, with what arrived before the extension was there to listen. */
(function () {
  "use strict";
  var data = document.currentScript.dataset;
  // One session per tab: sessionStorage survives a reload of this tab and nothing else.
  var key = "dashboards:session:" + location.pathname;
  var stored = null;
  try { stored = sessionStorage.getItem(key); } catch (e) { /* storage off: a new session each load */ }
  var sid = stored || data.sessionId;
  // While the page is open its session is out of sessionStorage: a tab duplicated from this one
  // (shown or in the background) gets a copy of sessionStorage, and must start a session of its
  // own (sharing one, each tab wrote over the other's saved state). The session goes back in when
  // the page is left (a reload, a navigation, a closed tab reopened) or frozen (a background tab
  // the browser may discard, to reload it later).
  function keep() { try { sessionStorage.setItem(key, sid); } catch (e) { /* as above */ } }
  function release() { try { sessionStorage.removeItem(key); } catch (e) { /* as above */ } }
  release();
  window.addEventListener("pagehide", keep);
  window.addEventListener("pageshow", function (event) { if (event.persisted) release(); });
  document.addEventListener("freeze", keep);
  document.addEventListener("resume", release);
  var path = data.socketPath + "?sid=" + encodeURIComponent(sid) + "&release=" + encodeURIComponent(data.release) +
    "&fresh=" + (stored ? "0" : "1");
  var early = { path: path, socket: null, received: [], keep: null };
  try {
    early.socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + path, []);
    early.keep = function (event) { early.received.push(event.data); };
    early.socket.addEventListener("message", early.keep);
  } catch (e) { early.socket = null; /* htmx opens its own when it starts */ }
  window.dashboardsEarlySocket = early;
})();
