/* A "Copy link" button beside a link people send (the admin's shared link of an app): it copies
   the link's full address and says so. A static file because the Content-Security-Policy allows
   scripts from the platform only; an inline onclick would never run.

   <a href="https://..." id="shared-link-url">https://...</a>
   <button type="button" data-copy="#shared-link-url">Copy link</button>
   <span data-copy-status role="status"></span>

   data-copy names the link (its href is copied) or a field (its value). The clipboard API answers
   only in a secure context (HTTPS, or the loopback); elsewhere the text is selected and copied
   with the older command, and if even that fails it stays selected, for Ctrl+C. */
(function () {
  "use strict";

  function say(button, text) {
    var status = button.parentElement && button.parentElement.querySelector("[data-copy-status]");
    if (status) status.textContent = text;
  }

  function copyBySelection(source) {
    if (typeof source.select === "function") {
      source.select();
    } else {
      var range = document.createRange();
      range.selectNodeContents(source);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
    try { return document.execCommand("copy"); } catch (e) { return false; }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var text = "value" in source && source.tagName !== "A" ? source.value : source.href;
    var copied = function () { say(button, "Copied."); };
    var fallback = function () {
      say(button, copyBySelection(source) ? "Copied." : "Press Ctrl+C (⌘C) to copy the selected link.");
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(copied, fallback);
    } else {
      fallback();
    }
  });
})();
