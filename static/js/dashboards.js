/* The platform's browser side of the session protocol (docs/protocol.md): htmx does the swapping;
   socket-early.js (inline in the page's head) picks the tab's session id and opens its socket; this
   file hands that socket to htmx, shapes outgoing events and runs commands (toasts.js arms the
   toasts). */
(function () {
  "use strict";
  var root = document.getElementById("app-root");
  var socket = null;
  var CLOSE_TEXT = {
    1009: "The page sent more than the server accepts at once: the connection was closed. Reload the page.",
    4401: "You are signed out. Sign in again to go on.",
    4403: "You no longer have access to this app.",
    4404: "This app does not exist any more.",
    4429: "Too many events: the connection was closed. Reload the page.",
    4430: "Too many tabs of this app platform are open: close some, then reload this one.",
    4500: "This app failed to start. Its developers have been told."
  };

  // The tab's socket was opened by the page's head (socket-early.js), which also chose the session.
  var early = window.dashboardsEarlySocket;
  if (root && early) root.setAttribute("ws-connect", early.path);
  else if (root) setStatus("This page could not start its connection. Reload the page.", true);

  // The extension's first socket is the early one, with the messages it has received so far; a
  // reconnect opens a new one.
  function adoptEarlySocket(url) {
    var socket = early && early.socket;
    if (!socket) return null;
    early.socket = null;
    socket.removeEventListener("message", early.keep);
    var ours = url.slice(-early.path.length) === early.path;
    if (!ours || socket.readyState > WebSocket.OPEN) {
      if (socket.readyState <= WebSocket.OPEN) socket.close();
      return null;  // closed already (refused, or the server restarted): open a new one, as on a reconnect
    }
    var received = early.received;
    early.received = [];
    // Once the extension has set its handlers (it does so as soon as this returns), replay what
    // they missed: the open, and the messages that arrived before.
    Promise.resolve().then(function () {
      if (socket.readyState === WebSocket.OPEN) socket.dispatchEvent(new Event("open"));
      received.forEach(function (data) { socket.dispatchEvent(new MessageEvent("message", { data: data })); });
    });
    return socket;
  }

  // htmx's WebSocket extension reconnects (with jitter) only after 1006, 1011, 1012 and 1013. The
  // server's "restarting, reconnect elsewhere" is 4012 (Daphne cannot send the standard 1012); and
  // the platform never closes a tab with 1000, 1001 or 1005 itself: those come from something in
  // between (a proxy's idle timeout or restart), and the tab should come back, not go dead.
  var RECONNECT_AFTER = { 4012: true, 1000: true, 1001: true, 1005: true };
  htmx.createWebSocket = function (url) {
    // A socket after the first one answers a page that may have missed frames (sent while the
    // connection was going down, or lost with the server): fresh=0 asks for every component again.
    var socket = adoptEarlySocket(url) || new WebSocket(url.replace(/([?&]fresh=)1(?=&|$)/, "$10"), []);
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

  function payloadOf(elt) {
    if (elt.tagName === "INPUT" && elt.type === "checkbox") return elt.checked;
    if (elt.tagName === "INPUT" && (elt.type === "number" || elt.type === "range")) {
      return elt.value === "" ? null : Number(elt.value);
    }
    if (elt.tagName === "INPUT" || elt.tagName === "SELECT" || elt.tagName === "TEXTAREA") return elt.value;
    return null;
  }

  function message(event, handler, target, payload, repeatKey, settled) {
    var body = { event: event, payload: payload };
    if (handler) body.handler = handler;
    if (target) body.target = target;
    if (repeatKey !== undefined && repeatKey !== null) body.repeat_key = repeatKey;
    if (settled) body.settled = true;
    return JSON.stringify(body);
  }

  document.addEventListener("htmx:wsConfigSend", function (evt) {
    var elt = evt.detail.elt || evt.target;
    var data = elt.dataset;
    // A change (blur, Enter, a pick), not typing: the server may send the input back as the state has it.
    var settled = !!evt.detail.triggeringEvent && evt.detail.triggeringEvent.type === "change";
    var body = message(data.event, data.handler, data.target, payloadOf(elt), data.repeatKey, settled);
    if (tooLarge(body)) { evt.preventDefault(); return; }
    evt.detail.messageBody = body;
    if (elt.tagName === "INPUT" || elt.tagName === "TEXTAREA") {
      elt.dashboardsSent = elt.value;
      elt.dashboardsSentAfterSettled = !settled;
    }
    window.dashboards.lastSendAt = performance.now();
  });

  // What the user types wins over an answer to something they sent before it (as LiveView keeps
  // a focused input's value): a field sent back (a settled change the handler corrected: Enter,
  // then typing on at once) is not replaced while it holds keystrokes sent to nobody yet, nor once
  // typing sent after that change has gone out (on a slow link the answer comes after it: it
  // would put back text the server no longer holds). The typing goes out with the field's own
  // sends, and the next settled change is sent back in turn.
  document.addEventListener("htmx:oobBeforeSwap", function (evt) {
    var active = document.activeElement;
    var target = evt.detail.target;
    if (!active || active.dashboardsSent === undefined || !target || !target.contains(active)) return;
    if (active.value !== active.dashboardsSent || active.dashboardsSentAfterSettled) {
      evt.detail.shouldSwap = false;
    }
  });

  // A control replaced by a swap may still have a send pending (typing's delay): htmx fires it
  // from the detached element, out of this document's listeners' reach, and would send its own
  // kind of message (which the server refuses, with an error toast the user caused nothing of).
  // Dropped: the control the user left shows what the server sent since.
  document.addEventListener("htmx:beforeCleanupElement", function (evt) {
    var elt = evt.target;
    if (elt.hasAttribute && elt.hasAttribute("ws-send")) {
      elt.addEventListener("htmx:wsConfigSend", function (sent) { sent.preventDefault(); });
    }
  });

  // The server closes a socket that sends more than it accepts at once (1009), and the tab goes
  // dead: a pasted text that large is refused here instead, with a toast, and the tab goes on.
  var MAX_MESSAGE_BYTES = root ? parseInt(root.dataset.maxMessageBytes || "0", 10) : 0;
  function tooLarge(body) {
    if (!MAX_MESSAGE_BYTES || body.length * 3 <= MAX_MESSAGE_BYTES) return false;  // UTF-8: 3 bytes a char at most
    var bytes = new TextEncoder().encode(body).length;
    if (bytes <= MAX_MESSAGE_BYTES) return false;
    localToast("That is too large to send (" + Math.ceil(bytes / 1024) + " KB; at most " +
               Math.floor(MAX_MESSAGE_BYTES / 1024) + " KB at once): it was not sent.");
    return true;
  }

  function localToast(text) {
    var stack = document.getElementById("dashboards-toasts-top-right");
    if (!stack) return;
    var toast = document.createElement("div");
    toast.className = "toast toast-error";
    toast.setAttribute("role", "alert");
    toast.dataset.duration = "8000";
    var words = document.createElement("span");
    words.className = "toast-message";
    var level = document.createElement("strong");
    level.className = "toast-level"; // as the server's toasts (frames.py): the level in words too
    level.textContent = "Error";
    var colon = document.createElement("span");
    colon.className = "visually-hidden";
    colon.textContent = ":";
    level.appendChild(colon);
    words.appendChild(level);
    words.appendChild(document.createTextNode(" " + text));
    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "\u00d7";
    toast.appendChild(words);
    toast.appendChild(close);
    stack.appendChild(toast);
    if (window.dashboardsToasts) window.dashboardsToasts.arm();
  }

  document.addEventListener("htmx:wsOpen", function (evt) {
    socket = evt.detail.socketWrapper;
    setStatus("");
  });

  document.addEventListener("htmx:wsClose", function (evt) {
    var code = evt.detail.event && evt.detail.event.code;
    setStatus(CLOSE_TEXT[code] || "Connection lost. Reconnecting…", !!CLOSE_TEXT[code]);
  });

  function setStatus(text, final) {
    var status = document.getElementById("connection-status");
    if (!status) return;
    status.textContent = text;
    status.hidden = !text;
    status.classList.toggle("final", !!final);
  }

  // --- Python -> browser commands ---
  var commands = {
    "dashboards:set-content": function (data) {
      // Only the app's own elements: inside the app's root, and never one holding components
      // (their ids are what later frames swap into).
      var target = root && root.querySelector(data.selector);
      if (!target) throw new Error("no element of the app matches " + data.selector);
      if (target.closest(".dc") || target.querySelector(".dc")) {
        throw new Error(data.selector + " is or holds a component: set the state it reads instead");
      }
      target.textContent = data.text;
    },
    "dashboards:download": function (data) {
      var bytes = data.encoding === "base64" ? Uint8Array.from(atob(data.content), function (c) { return c.charCodeAt(0); }) : data.content;
      var url = URL.createObjectURL(new Blob([bytes], { type: data.mimeType || "application/octet-stream" }));
      var link = document.createElement("a");
      link.href = url;
      link.download = data.filename;
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
    },
    "dashboards:navigate": function (data) {
      if (typeof data.url === "string" && data.url.charAt(0) === "/" && data.url.charAt(1) !== "/") location.assign(data.url);
    },
    "plotly:update-layout": function (data) {
      var plot = document.querySelector("#" + CSS.escape(data.target) + " .dc-plot");
      if (plot && window.Plotly) window.Plotly.relayout(plot, data.layout || {});
    }
  };

  function runCommands() {
    document.querySelectorAll("#dashboards-commands .dashboards-command").forEach(function (node) {
      var list = [];
      try { list = JSON.parse(node.dataset.command); } catch (e) { console.warn("bad command", e); }
      node.remove();
      list.forEach(function (command) {  // one failing command never stops the others
        var run = commands[command.type];
        if (!run) return console.warn("unknown command", command.type);
        try { run(command); } catch (e) { console.warn("command " + command.type + " not run:", e.message); }
      });
    });
  }

  // Toasts (timers, dismissal) are armed by toasts.js, loaded on every signed-in page.

  // --- charts (Plotly loads only on pages that hold a chart) ---
  function drawCharts(scope) {
    if (!window.Plotly) return;
    (scope || document).querySelectorAll(".dc-plot[data-figure]").forEach(function (plot) {
      var source = plot.dataset.figure;
      plot.removeAttribute("data-figure");  // drawn once, or given up on: never again on every frame
      try {
        var figure = JSON.parse(source);
        window.Plotly.react(plot, figure.data || [], figure.layout || {}, { displaylogo: false, responsive: true });
        plot.classList.remove("dc-plot-broken");
      } catch (e) {  // one figure Plotly cannot draw leaves the page's other charts drawn
        console.warn("chart " + (plot.dataset.target || "") + " not drawn:", e.message);
        plot.classList.add("dc-plot-broken");
        plot.textContent = "This chart cannot be drawn.";
        return;
      }
      // A figure drawn anew has no selection (as after a mouse's): a run of the keys' ends too.
      if (chartCursors[plot.id]) chartCursors[plot.id].anchor = null;
      if (document.activeElement === plot) showChartPoint(plot, false);  // back after a swap
      if (plot.dataset.bound) return;
      plot.dataset.bound = "1";
      ["click", "selected"].forEach(function (kind) {
        if (!chartHandler(plot, kind)) return;
        plot.on("plotly_" + kind, function (event) {
          sendChartPoints(plot, kind, (event && event.points) || []);
        });
      });
    });
  }

  function chartHandler(plot, kind) {  // the handler the chart names for "click" or "selected", or ""
    return plot.dataset[kind === "click" ? "onClick" : "onSelected"] || "";
  }
  function sendChartPoints(plot, kind, points) {  // what a mouse's click or selection, or a key, picked
    var handler = chartHandler(plot, kind);
    points = points.map(function (p) {
      return { x: p.x, y: p.y, curveNumber: p.curveNumber, pointNumber: p.pointNumber, label: p.label, text: p.text, customdata: p.customdata };
    });
    send(message(plot.dataset[kind + "Event"], handler, plot.dataset.target, { points: points }));
  }

  // --- a chart's points from the keyboard (a chart with on_click or on_selected is a tab stop) ---
  // Left and Right (Home, End) move along a series, Up and Down from series to series; the point
  // gets Plotly's hover label and its words go to the live region. With Shift, Left, Right, Home
  // and End select a run of points of the series (on_selected), drawn as Plotly draws a selection.
  // Enter or Space sends the run as plotly:selected, or else the point as plotly:click (a chart
  // with on_selected only: the point as a selection of one), the same events a mouse sends.
  // Escape lets go of the point and the run. Where the keys left off is kept by the plot's id, so
  // it survives the swap the answer makes (keyboard.js gives the new plot the focus).
  var chartCursors = {};  // plot id -> {series, index, anchor: where a run began, or null}
  function chartSeries(plot) {  // [curveNumber, number of points] of each series shown
    return (plot.calcdata || []).map(function (points, curve) {
      var trace = (plot.data || [])[curve] || {};
      return [curve, trace.visible === false || trace.visible === "legendonly" ? 0 : points.length];
    }).filter(function (series) { return series[1] > 0; });
  }
  function pick(values, index) { return Array.isArray(values) ? values[index] : values; }
  // A point as the figure's data has it: the same fields whatever Plotly's hover did (a pie's
  // slice has its label and value, no x and y; a category's label is its x).
  function tracePoint(plot, curve, index) {
    var trace = plot.data[curve] || {};
    var x = trace.x ? pick(trace.x, index) : trace.y ? index : undefined;
    return {
      curveNumber: curve, pointNumber: index, x: x, y: pick(trace.y, index), label: trace.labels ? pick(trace.labels, index) : x,
      value: pick(trace.values, index), text: pick(trace.text, index), customdata: pick(trace.customdata, index)
    };
  }
  function chartPoint(plot, curve, index) {  // shown with Plotly's hover label, as a mouse shows it
    Plotly.Fx.hover(plot, [{ curveNumber: curve, pointNumber: index }]);
    return tracePoint(plot, curve, index);
  }
  function words(value) {
    return typeof value === "number" ? value.toLocaleString() : value === undefined || value === null ? "" : String(value);
  }
  function say(text) {  // into the page's one live region, which stays: a screen reader reads it out
    var region = document.getElementById("dashboards-announcer");
    if (region) region.textContent = text;
  }
  function showChartPoint(plot, announce) {
    var cursor = chartCursors[plot.id];
    var series = chartSeries(plot);
    if (!cursor || !series.length || !window.Plotly) return null;
    cursor.series = Math.min(Math.max(cursor.series, 0), series.length - 1);
    cursor.index = Math.min(Math.max(cursor.index, 0), series[cursor.series][1] - 1);
    var curve = series[cursor.series][0], count = series[cursor.series][1];
    var point = chartPoint(plot, curve, cursor.index);
    if (announce) {
      var name = series.length > 1 ? words((plot.data[curve] || {}).name || "Series " + (cursor.series + 1)) + ", " : "";
      var value = point.value !== undefined ? point.value : point.y;
      var label = point.label !== undefined ? point.label : point.x;
      say(name + words(label) + ": " + words(value) + " (" + (cursor.index + 1) + " of " + count + ")");
    }
    return point;
  }
  function chartRun(plot) {  // {curve, indices} of the run the keys selected, or null
    var cursor = chartCursors[plot.id];
    var series = cursor && cursor.anchor !== null && chartSeries(plot)[cursor.series];
    if (!series) return null;
    var last = series[1] - 1, indices = [];
    var from = Math.min(Math.max(Math.min(cursor.anchor, cursor.index), 0), last);
    var to = Math.min(Math.max(Math.max(cursor.anchor, cursor.index), 0), last);
    for (var i = from; i <= to; i++) indices.push(i);
    return { curve: series[0], indices: indices };
  }
  function drawRun(plot, announce) {  // as a mouse's selection is drawn: the other points dimmed
    var run = chartRun(plot);
    var selected = (plot.data || []).map(function (trace, curve) { return run && curve === run.curve ? run.indices : null; });
    var drawn = Plotly.restyle(plot, { selectedpoints: selected });
    if (run && announce) {
      var first = tracePoint(plot, run.curve, run.indices[0]), last = tracePoint(plot, run.curve, run.indices[run.indices.length - 1]);
      var span = run.indices.length > 1 ? words(first.label) + " to " + words(last.label) : words(first.label);
      say(span + " selected (" + run.indices.length + (run.indices.length > 1 ? " points)" : " point)"));
    }
    // Restyling draws the plot again, hover label gone: it comes back once drawn.
    if (drawn && drawn.then) drawn.then(function () { if (document.activeElement === plot) showChartPoint(plot, false); });
  }
  var CHART_MOVES = {
    ArrowRight: function (c) { c.index += 1; }, ArrowLeft: function (c) { c.index -= 1; },
    ArrowDown: function (c) { c.series += 1; }, ArrowUp: function (c) { c.series -= 1; },
    Home: function (c) { c.index = 0; }, End: function (c) { c.index = Infinity; }
  };
  var RUN_KEYS = { ArrowRight: true, ArrowLeft: true, Home: true, End: true };
  document.addEventListener("keydown", function (evt) {
    var plot = evt.target;
    if (!plot.classList || !plot.classList.contains("dc-plot")) return;
    var clicks = !!chartHandler(plot, "click"), selects = !!chartHandler(plot, "selected");
    if ((!clicks && !selects) || evt.altKey || evt.ctrlKey || evt.metaKey || !window.Plotly || !plot.calcdata) return;
    var move = CHART_MOVES[evt.key];
    var cursor = chartCursors[plot.id];
    if (move) {
      var extend = evt.shiftKey && selects && RUN_KEYS[evt.key];
      var hadRun = !!cursor && cursor.anchor !== null;
      if (!cursor) {  // the first key shows the first point (the last, with End)
        cursor = chartCursors[plot.id] = { series: 0, index: evt.key === "End" ? Infinity : 0, anchor: null };
        if (extend) cursor.anchor = 0;
      } else {
        if (extend && cursor.anchor === null) cursor.anchor = cursor.index;
        if (!extend) cursor.anchor = null;  // a move without Shift lets go of the run
        move(cursor);
      }
      showChartPoint(plot, !extend);
      if (extend || hadRun) drawRun(plot, extend);
    } else if (evt.key === "Enter" || evt.key === " ") {
      var run = selects && chartRun(plot);
      var point = showChartPoint(plot, false);
      if (run) {
        sendChartPoints(plot, "selected", run.indices.map(function (i) { return tracePoint(plot, run.curve, i); }));
      } else if (point) {
        sendChartPoints(plot, clicks ? "click" : "selected", [point]);
      }
    } else if (evt.key === "Escape") {
      var had = cursor && cursor.anchor !== null;
      delete chartCursors[plot.id];
      if (had) drawRun(plot, false);
      Plotly.Fx.unhover(plot);
      return;
    } else {
      return;
    }
    evt.preventDefault();  // the page does not scroll under the arrows and Space
  });
  document.addEventListener("focusout", function (evt) {
    var plot = evt.target;
    if (!plot.classList || !plot.classList.contains("dc-plot") || !window.Plotly || !plot.calcdata) return;
    try { Plotly.Fx.unhover(plot); } catch (e) { /* a plot swapped out meanwhile */ }
  });

  function send(body) {
    if (socket && !tooLarge(body)) socket.send(body);
  }

  // --- what a screen reader hears of a swap ---
  // A component swapped in is a new element, and a live region that arrives whole says nothing: a
  // component whose words changed (data-announce: a metric, "Clicks: 3") has them read into the
  // page's one live region, #dashboards-announcer, which stays. Once per message, after its swaps;
  // a component sent again unchanged (a reconnect sends every one) says nothing.
  var toAnnounce = [];
  document.addEventListener("htmx:oobAfterSwap", function (evt) {
    var elt = evt.target, old = evt.detail && evt.detail.target;
    if (!elt.dataset || elt.dataset.announce === undefined || !old || old.id !== elt.id) return;
    if (old.dataset.announce !== elt.dataset.announce && toAnnounce.indexOf(elt) < 0) toAnnounce.push(elt);
  });
  function announce() {
    var words = toAnnounce.filter(function (elt) { return elt.isConnected; })
      .map(function (elt) { return elt.dataset.announce; });
    toAnnounce = [];
    if (words.length) say(words.join(". "));
  }

  document.addEventListener("htmx:wsAfterMessage", function () {
    drawCharts(); // first: a command of the same answer may update a chart it swapped in
    runCommands();
    announce();
    window.dashboards.lastUpdateAt = performance.now();
  });
  document.addEventListener("DOMContentLoaded", function () { drawCharts(); });

  // An app's own events from its page's markup: <button data-emit="sales:export"
  // data-emit-payload='{"format": "csv"}'>. Pages run no inline script (the CSP allows none), so
  // this is how a page's element sends one; dashboards.emit() is there for scripts of the platform.
  document.addEventListener("click", function (evt) {
    var elt = evt.target.closest && evt.target.closest("[data-emit]");
    if (!elt || !root || !root.contains(elt)) return;
    var payload = null;
    if (elt.dataset.emitPayload !== undefined) {
      try { payload = JSON.parse(elt.dataset.emitPayload); } catch (e) { payload = elt.dataset.emitPayload; }
    }
    evt.preventDefault();
    window.dashboards.emit(elt.dataset.emit, payload);
  });

  window.dashboards = {
    /** Send an app-defined event, e.g. dashboards.emit("sales:export", {format: "csv"}). */
    emit: function (name, data) { send(message(name, null, null, data === undefined ? null : data)); },
    lastSendAt: 0,
    lastUpdateAt: 0
  };
})();
