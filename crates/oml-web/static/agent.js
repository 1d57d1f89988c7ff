// The agent page's live part (issue 19): listens to /agent/events
// (server-sent events) and draws the state and the screen pop. Text only
// (textContent), so nothing from a contact's row can run as code. Each
// event is also re-sent as a DOM event (oml:state, oml:call,
// oml:call-ended, oml:wrapup) for the page's other parts; the wrap-up
// form is filled here from the `wrapup` event.
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
  // The wrap-up form (agent_wrapup.html): filled from the `wrapup` event,
  // hidden when it is null; the callback fields show only for a
  // disposition that schedules one.
  var wrapDeadline = 0;
  function toggleCallback() {
    var sel = document.getElementById("f-disposition");
    var opt = sel && sel.options[sel.selectedIndex];
    var wants = !!opt && opt.getAttribute("data-callback") === "true";
    var cb = document.getElementById("wrapup-callback");
    cb.hidden = !wants;
    document.getElementById("f-callback-at").required = wants;
  }
  function tickWrapup() {
    var left = document.getElementById("wrapup-left");
    if (!left || !wrapDeadline) { return; }
    var s = Math.max(0, Math.round((wrapDeadline - Date.now()) / 1000));
    left.textContent = s + " s left";
  }
  function wrapup(w) {
    var card = document.getElementById("wrapup-card");
    if (!card) { return; }
    if (!w) { card.hidden = true; wrapDeadline = 0; return; }
    var fresh = card.getAttribute("data-attempt") !== String(w.attempt_id);
    card.setAttribute("data-attempt", String(w.attempt_id));
    document.getElementById("wrapup-attempt").value = String(w.attempt_id);
    document.getElementById("wrapup-call").textContent = String(w.attempt_id);
    document.getElementById("wrapup-campaign").textContent = w.campaign;
    document.getElementById("wrapup-phone").textContent = w.phone;
    document.getElementById("wrapup-zone").textContent = w.time_zone;
    document.getElementById("wrapup-until").textContent = w.deadline_label;
    wrapDeadline = w.deadline;
    if (fresh) {
      var sel = document.getElementById("f-disposition");
      sel.textContent = "";
      var blank = document.createElement("option");
      blank.value = "";
      blank.textContent = "Choose…";
      sel.appendChild(blank);
      w.dispositions.forEach(function (d) {
        var o = document.createElement("option");
        o.value = d.name;
        o.textContent = d.name + (d.callback ? " (callback)" : "");
        o.setAttribute("data-callback", d.callback ? "true" : "false");
        sel.appendChild(o);
      });
      document.getElementById("f-callback-at").value = w.callback_default;
      document.getElementById("f-note").value = "";
      document.getElementById("f-callback-me").checked = true;
    }
    toggleCallback();
    tickWrapup();
    card.hidden = false;
  }
  var dispSelect = document.getElementById("f-disposition");
  if (dispSelect) { dispSelect.addEventListener("change", toggleCallback); }
  window.setInterval(tickWrapup, 1000);
  var es = new EventSource("/agent/events");
  es.onopen = function () { live.textContent = "Live updates: on"; };
  es.onerror = function () { live.textContent = "Live updates: reconnecting…"; };
  es.addEventListener("state", function (ev) {
    var d = JSON.parse(ev.data); show(d); relay("state", d);
  });
  es.addEventListener("call", function (ev) {
    var d = JSON.parse(ev.data); pop(d); relay("call", d);
  });
  es.addEventListener("wrapup", function (ev) {
    var d = JSON.parse(ev.data); wrapup(d); relay("wrapup", d);
  });
  es.addEventListener("call-ended", function (ev) {
    var d = JSON.parse(ev.data);
    var sec = document.getElementById("screen-pop");
    sec.setAttribute("data-ended", String(d.attempt_id));
    relay("call-ended", d);
  });
})();
