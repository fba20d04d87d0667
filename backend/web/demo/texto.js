// The demo phone page: sends the visitor's texts through the backend (which signs them as Twilio
// does) and shows the phone's thread as the Twilio stand-in received it. Text only, never HTML.
(function () {
  "use strict";
  var select = document.getElementById("texto-phone");
  var log = document.getElementById("texto-log");
  var thread = document.getElementById("texto-thread");
  var compose = document.getElementById("texto-compose");
  var input = document.getElementById("texto-body");
  var button = document.getElementById("texto-send");
  var status = document.getElementById("texto-status");
  var shown = { phone: null, last: 0 };
  var URL_RE = /(https?:\/\/[^\s<>"]+)/g;

  function bubble(message) {
    var li = document.createElement("li");
    li.className = message.direction === "in" ? "in" : "out";
    li.dataset.n = String(message.n);
    var who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = (message.direction === "in" ? thread.dataset.you : thread.dataset.them) + " ";
    li.appendChild(who);
    message.body.split(URL_RE).forEach(function (part, i) {
      if (i % 2 === 1) {
        var a = document.createElement("a");
        a.href = part;
        a.textContent = part;
        li.appendChild(a);
      } else if (part) {
        li.appendChild(document.createTextNode(part));
      }
    });
    return li;
  }

  function showEmpty() {
    var li = document.createElement("li");
    li.className = "empty";
    li.textContent = thread.dataset.empty;
    thread.appendChild(li);
  }

  function refresh() {
    var phone = select.value;
    return fetch("/demo/texto/messages?phone=" + encodeURIComponent(phone))
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (phone !== select.value) { return; }
        if (shown.phone !== phone) {
          thread.textContent = "";
          shown = { phone: phone, last: 0 };
          if (!data.messages.length) { showEmpty(); }
        }
        data.messages.forEach(function (m) {
          if (m.n > shown.last) {
            var empty = thread.querySelector("li.empty");
            if (empty) { empty.remove(); }
            thread.appendChild(bubble(m));
            shown.last = m.n;
            log.scrollTop = log.scrollHeight;
          }
        });
      })
      .catch(function () { /* the next poll tries again */ });
  }

  compose.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = input.value.trim();
    if (!body) { return; }
    button.disabled = true;
    status.textContent = "";
    fetch("/demo/texto/send", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ phone: select.value, body: body })
    }).then(function (r) {
      if (!r.ok) { throw new Error(String(r.status)); }
      input.value = "";
      return refresh();
    }).catch(function () {
      status.textContent = status.dataset.failed;
    }).then(function () {
      button.disabled = false;
      input.focus();
    });
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      compose.requestSubmit();
    }
  });
  select.addEventListener("change", function () { refresh(); });
  refresh();
  window.setInterval(refresh, 1000);
})();
