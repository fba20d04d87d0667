/* The staff's live view (/staff, docs/STAFF.md "Live view"): log in, then show registration
   night's figures from GET /api/staff/live and keep them current with the server-sent events
   of /api/staff/live/events. Every sentence comes from the page's JSON block (the backend's
   catalog); numbers, amounts and times are formatted in fr-CA. The DOM is built with
   textContent only: nothing from the server is ever parsed as HTML. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("staff-config").textContent);
  var S = config.strings;
  var API = config.api;
  var CSRF_KEY = "staffCsrf";
  var SVG = "http://www.w3.org/2000/svg";
  var integer = new Intl.NumberFormat(config.locale);
  var decimal = new Intl.NumberFormat(config.locale, { maximumFractionDigits: 1 });
  var percent = new Intl.NumberFormat(config.locale, { style: "percent", maximumFractionDigits: 0 });
  var money = new Intl.NumberFormat(config.locale, { style: "currency", currency: "CAD" });
  var clock = new Intl.DateTimeFormat(config.locale, {
    hour: "numeric", minute: "2-digit", timeZone: config.timeZone
  });
  var day = new Intl.DateTimeFormat(config.locale, { day: "numeric", month: "short", timeZone: "UTC" });
  var STATUSES = ["awaiting_payment", "partially_paid", "paid", "deferred", "expired", "refunded",
    "cancelled"];
  var stream = null;

  function $(id) { return document.getElementById(id); }

  function t(key, values) {
    return S[key].replace(/%\((\w+)\)s/g, function (_, name) { return String(values[name]); });
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) { return; }
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function replace(container, nodes) {
    container.textContent = "";
    nodes.forEach(function (node) { container.appendChild(node); });
  }

  function utc(iso) { return new Date(iso.endsWith("Z") ? iso : iso + "Z"); }
  function cents(n) { return money.format(n / 100); }

  /* ---------------------------------------------------------------- session */

  /* Nothing of the last account's figures stays in the page once it is logged out. */
  function clearFigures() {
    ["resume", "salle", "carte-chaleur", "listes", "paiements", "plot-admissions",
      "plot-places", "plot-payments", "etat", "tableau-erreur"].forEach(function (id) {
      $(id).textContent = "";
    });
    $("chiffres").hidden = true;
  }

  function showLogin(message) {
    if (stream) { stream.close(); stream = null; }
    sessionStorage.removeItem(CSRF_KEY);
    clearFigures();
    $("tableau").hidden = true;
    $("session").hidden = true;
    $("connexion").hidden = false;
    $("login-error").textContent = message || "";
    $("username").focus();
  }

  function showDashboard(who) {
    $("connexion").hidden = true;
    $("tableau").hidden = false;
    $("session").hidden = false;
    $("who").textContent = t("logged_in_as", { username: who.username });
    load();
  }

  function call(method, path, body) {
    var headers = { "Accept": "application/json" };
    var csrf = sessionStorage.getItem(CSRF_KEY);
    if (body !== undefined) { headers["Content-Type"] = "application/json"; }
    if (method !== "GET" && csrf) { headers["X-CSRF-Token"] = csrf; }
    return fetch(API + path, {
      method: method, headers: headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body)
    });
  }

  $("login-form").addEventListener("submit", function (event) {
    event.preventDefault();
    $("login-error").textContent = "";
    call("POST", "/login", { username: $("username").value.trim(), password: $("password").value })
      .then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) { $("login-error").textContent = S.login_failed; return; }
          sessionStorage.setItem(CSRF_KEY, body.csrf_token);
          $("password").value = "";
          showDashboard(body.staff);
        });
      })
      .catch(function () { $("login-error").textContent = S.network; });
  });

  $("logout").addEventListener("click", function () {
    call("POST", "/logout").finally(function () { showLogin(""); });
  });

  /* ---------------------------------------------------------------- live figures */

  function load() {
    call("GET", "/live").then(function (r) {
      if (r.status === 401) { showLogin(S.ended); return; }
      if (r.status === 403) { $("tableau-erreur").textContent = S.forbidden; return; }
      if (!r.ok) { throw new Error(String(r.status)); }
      return r.json().then(function (view) { render(view); listen(); });
    }).catch(function () {
      /* The backend restarts or the network drops: try again shortly, the page stays. */
      $("etat").textContent = S.network;
      if (!$("tableau").hidden) { setTimeout(load, 5000); }
    });
  }

  function listen() {
    if (stream) { stream.close(); }
    stream = new EventSource(API + "/live/events");
    stream.addEventListener("figures", function (event) { render(JSON.parse(event.data)); });
    stream.addEventListener("ended", function () { showLogin(S.ended); });
    stream.onerror = function () {
      if (stream && stream.readyState === EventSource.CLOSED) { load(); return; }
      $("etat").textContent = S.reconnecting;
    };
  }

  function render(view) {
    $("chiffres").hidden = false;
    $("tableau-erreur").textContent = "";
    $("etat").textContent = t("live", { time: clock.format(utc(view.at)) });
    renderSummary(view);
    renderRush(view.waiting_room, view.series);
    renderHeatMap(view.sessions, view.series);
    renderWaitlists(view.sessions);
    renderPayments(view.payments, view.series);
  }

  function figure(id, label, value) {
    return el("div", {}, [el("dt", {}, [label]), el("dd", { id: id }, [value])]);
  }

  function renderSummary(view) {
    var totals = view.totals;
    replace($("resume"), [
      figure("total-saison", S.season, view.season.name),
      figure("total-places", S.total_fill, t("total_fill_value", {
        taken: integer.format(totals.taken), capacity: integer.format(totals.capacity),
        rate: percent.format(totals.fill_rate)
      })),
      figure("total-complets", S.full_sessions, integer.format(totals.full_sessions)),
      figure("total-attente", S.total_waitlist, integer.format(totals.waitlist)),
      figure("total-recu", S.received, cents(view.payments.received_cents))
    ]);
  }

  function renderRush(rush, series) {
    if (!rush) {
      replace($("salle"), [el("p", { id: "salle-aucune" }, [S.no_rush])]);
      replace($("plot-admissions"), []);
      return;
    }
    var wait = rush.estimated_wait_minutes === null ? S.unknown
      : t("minutes", { count: integer.format(rush.estimated_wait_minutes) });
    var items = [
      figure("salle-etat", S.rush_state, S["phase_" + rush.phase]),
      figure("salle-file", S.waiting, integer.format(rush.waiting)),
      figure("salle-prefile", S.pre_queue, integer.format(rush.pre_queue)),
      figure("salle-inscription", S.registering, integer.format(rush.registering)),
      figure("salle-debit", S.admitted_per_minute, decimal.format(rush.admitted_per_minute)),
      figure("salle-attente", S.estimated_wait, wait),
      figure("salle-limites", S.rate_cap, t("rate_cap_value", {
        rate: decimal.format(rush.rate_per_minute), cap: integer.format(rush.cap)
      }))
    ];
    replace($("salle"), [el("dl", { "class": "figures" }, items)]);
    plot($("plot-admissions"), "admissions", S.plot_admissions, series.minutes, series.admissions);
  }

  function level(session) {
    if (session.taken === 0) { return 0; }
    if (session.taken >= session.capacity) { return 5; }
    return 1 + Math.min(3, Math.floor(session.fill_rate * 4));
  }

  function groupLabel(session) {
    return session.site ? session.group + ", " + session.site : session.group;
  }

  function heatCell(session) {
    var parts = [
      el("span", { "class": "rate" }, [percent.format(session.fill_rate)]),
      el("span", { "class": "places" }, [t("places", {
        taken: integer.format(session.taken), capacity: integer.format(session.capacity)
      })])
    ];
    if (session.taken >= session.capacity) {
      parts.push(el("span", { "class": "wait" }, [S.full]));
    }
    if (session.waitlist > 0) {
      parts.push(el("span", { "class": "wait" }, [
        t("waiting_n", { count: integer.format(session.waitlist) })
      ]));
    }
    return el("td", {
      id: "cell-" + session.id, "class": "lvl-" + level(session),
      "data-taken": String(session.taken), "data-capacity": String(session.capacity),
      "data-waitlist": String(session.waitlist)
    }, parts);
  }

  function heatTable(sessions) {
    var numbers = [];
    var rows = {};
    var order = [];
    sessions.forEach(function (s) {
      if (numbers.indexOf(s.number) < 0) { numbers.push(s.number); }
      if (!rows[s.group_id]) { rows[s.group_id] = { label: groupLabel(s), cells: {} }; order.push(s.group_id); }
      rows[s.group_id].cells[s.number] = s;
    });
    numbers.sort(function (a, b) { return a - b; });
    var several = numbers.length > 1;
    var head = [el("th", { scope: "col" }, [S.group])].concat(numbers.map(function (n) {
      var first = sessions.filter(function (s) { return s.number === n; })[0];
      return el("th", { scope: "col" }, [
        several ? t("week", { number: n }) : S.term,
        el("span", { "class": "dates" }, [day.format(utc(first.starts_on + "T00:00:00"))])
      ]);
    }));
    var body = order.map(function (groupId) {
      var row = rows[groupId];
      return el("tr", {}, [el("th", { scope: "row" }, [row.label])].concat(numbers.map(function (n) {
        return row.cells[n] ? heatCell(row.cells[n]) : el("td", {}, ["—"]);
      })));
    });
    return el("div", { "class": "scroll" }, [el("table", { "class": "heat" }, [
      el("caption", {}, [sessions[0].program]),
      el("thead", {}, [el("tr", {}, head)]),
      el("tbody", {}, body)
    ])]);
  }

  function renderHeatMap(sessions, series) {
    var programs = [];
    var byProgram = {};
    sessions.forEach(function (s) {
      if (!byProgram[s.program_id]) { byProgram[s.program_id] = []; programs.push(s.program_id); }
      byProgram[s.program_id].push(s);
    });
    replace($("carte-chaleur"), programs.map(function (id) { return heatTable(byProgram[id]); }));
    plot($("plot-places"), "places", S.plot_places, series.minutes, series.places_taken);
  }

  function renderWaitlists(sessions) {
    var waiting = sessions.filter(function (s) { return s.waitlist > 0; })
      .sort(function (a, b) { return b.waitlist - a.waitlist || a.id - b.id; });
    if (!waiting.length) {
      replace($("listes"), [el("p", { id: "listes-aucune" }, [S.no_waitlist])]);
      return;
    }
    var rows = waiting.map(function (s) {
      var weeks = sessions.filter(function (o) { return o.group_id === s.group_id; }).length;
      return el("tr", { id: "attente-" + s.id }, [
        el("td", {}, [s.program]),
        el("th", { scope: "row" }, [groupLabel(s)]),
        el("td", {}, [weeks > 1 ? t("week", { number: s.number }) : S.term]),
        el("td", { "class": "num" }, [integer.format(s.waitlist)])
      ]);
    });
    replace($("listes"), [el("div", { "class": "scroll" }, [el("table", { "aria-labelledby": "t-attente" }, [
      el("thead", {}, [el("tr", {}, [
        el("th", { scope: "col" }, [S.program]), el("th", { scope: "col" }, [S.group]),
        el("th", { scope: "col" }, [S.session]), el("th", { scope: "col" }, [S.waiting_children])
      ])]),
      el("tbody", {}, rows)
    ])])]);
  }

  function renderPayments(payments, series) {
    var present = STATUSES.filter(function (s) { return payments.by_status[s]; });
    if (!present.length) {
      replace($("paiements"), [el("p", { id: "paiements-aucun" }, [S.no_orders])]);
    } else {
      var rows = present.map(function (status) {
        var figures = payments.by_status[status];
        return el("tr", { id: "paiement-" + status }, [
          el("th", { scope: "row" }, [S["status_" + status]]),
          el("td", { "class": "num orders" }, [integer.format(figures.orders)]),
          el("td", { "class": "num amount" }, [cents(figures.total_cents)])
        ]);
      });
      replace($("paiements"), [el("div", { "class": "scroll" }, [el("table", { "aria-labelledby": "t-paiements" }, [
        el("thead", {}, [el("tr", {}, [
          el("th", { scope: "col" }, [S.status]), el("th", { scope: "col" }, [S.orders]),
          el("th", { scope: "col" }, [S.amount])
        ])]),
        el("tbody", {}, rows)
      ])])]);
    }
    plot($("plot-payments"), "payments", S.plot_payments, series.minutes, series.payments);
  }

  /* A bar per minute; the sentence under it (and the image's name) says what it shows. */
  function plot(container, name, title, minutes, values) {
    var total = values.reduce(function (a, b) { return a + b; }, 0);
    var max = Math.max.apply(null, values.concat([0]));
    var summary = S.plot_empty;
    if (total > 0) {
      var at = minutes[values.indexOf(max)];
      summary = t("plot_summary", {
        total: integer.format(total), max: integer.format(max), time: clock.format(utc(at))
      });
    }
    var width = 300, height = 100, step = width / values.length;
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-labelledby", "plot-" + name + "-titre plot-" + name + "-texte");
    svg.setAttribute("preserveAspectRatio", "none");
    values.forEach(function (value, i) {
      if (!value) { return; }
      var h = Math.max(2, (value / max) * (height - 4));
      var rect = document.createElementNS(SVG, "rect");
      rect.setAttribute("class", "bar-rect");
      rect.setAttribute("x", String(i * step + 1));
      rect.setAttribute("y", String(height - h));
      rect.setAttribute("width", String(Math.max(1, step - 2)));
      rect.setAttribute("height", String(h));
      svg.appendChild(rect);
    });
    var axis = document.createElementNS(SVG, "line");
    axis.setAttribute("class", "axis");
    axis.setAttribute("x1", "0"); axis.setAttribute("x2", String(width));
    axis.setAttribute("y1", String(height - 0.5)); axis.setAttribute("y2", String(height - 0.5));
    svg.appendChild(axis);
    replace(container, [
      el("figcaption", { id: "plot-" + name + "-titre" }, [title]),
      svg,
      el("p", { "class": "summary", id: "plot-" + name + "-texte" }, [summary])
    ]);
  }

  call("GET", "/me").then(function (r) {
    if (!r.ok) { showLogin(""); return; }
    return r.json().then(showDashboard);
  }).catch(function () { showLogin(S.network); });
})();
