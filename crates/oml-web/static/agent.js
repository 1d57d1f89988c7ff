// The agent page's live part (issue 19): listens to /agent/events
// (server-sent events) and draws the state and the screen pop. Text only
// (textContent), so nothing from a contact's row can run as code. Each
// event is also re-sent as a DOM event (oml:state, oml:call,
// oml:call-ended) for the page's other parts (the wrap-up form).
(function () {
  "use strict";
  var box = document.getElementById("agent-state");
  if (!box || !window.EventSource) { return; }
  var live = document.getElementById("live-status");
  function show(state) {
    box.setAttribute("data-state", state.state);
    document.getElementById("state-label").textContent = state.label;
  }
  function cell(row, text, tag) {
    var c = document.createElement(tag || "td");
    c.textContent = text;
    row.appendChild(c);
  }
  function pop(call) {
    var sec = document.getElementById("screen-pop");
    sec.setAttribute("data-attempt", String(call.attempt_id));
    document.getElementById("pop-campaign").textContent = call.campaign;
    document.getElementById("pop-attempt").textContent = String(call.attempt_no);
    document.getElementById("pop-phone").textContent = call.phone;
    var body = document.querySelector("#pop-fields tbody");
    body.textContent = "";
    call.fields.forEach(function (f) {
      var tr = document.createElement("tr");
      cell(tr, f[0], "th");
      cell(tr, f[1]);
      body.appendChild(tr);
    });
    var ul = document.getElementById("pop-earlier");
    ul.textContent = "";
    if (call.earlier.length === 0) {
      var none = document.createElement("li");
      none.textContent = "none: first call";
      ul.appendChild(none);
    }
    call.earlier.forEach(function (e) {
      var li = document.createElement("li");
      li.textContent = "#" + e.attempt_no + " " + e.placed + ": " + e.outcome;
      ul.appendChild(li);
    });
    sec.hidden = false;
  }
  function relay(name, data) {
    document.dispatchEvent(new CustomEvent("oml:" + name, { detail: data }));
  }
  var es = new EventSource("/agent/events");
  es.onopen = function () { live.textContent = "Live updates: on"; };
  es.onerror = function () { live.textContent = "Live updates: reconnecting…"; };
  es.addEventListener("state", function (ev) {
    var d = JSON.parse(ev.data); show(d); relay("state", d);
  });
  es.addEventListener("call", function (ev) {
    var d = JSON.parse(ev.data); pop(d); relay("call", d);
  });
  es.addEventListener("call-ended", function (ev) {
    var d = JSON.parse(ev.data);
    var sec = document.getElementById("screen-pop");
    sec.setAttribute("data-ended", String(d.attempt_id));
    relay("call-ended", d);
  });
})();
