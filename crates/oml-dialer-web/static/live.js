// The Dialer page's and the wall's live parts: each element with a
// data-live address is replaced by every event that address streams
// (server-sent events); the browser reconnects by itself when a stream ends.
"use strict";
document.querySelectorAll("[data-live]").forEach(function (el) {
  var source = new EventSource(el.getAttribute("data-live"));
  source.onmessage = function (e) {
    el.innerHTML = e.data;
    el.setAttribute("data-updated", String(Date.now()));
  };
});
