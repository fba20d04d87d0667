/*
 * Chat widget for the registration assistant (vanilla JS, no framework, no CDN).
 *
 * Talks to Rasa's socket.io channel (bot/channels/webchat.py): `session_request`
 * {session_id: the secret kept from an earlier confirm, widget_token} opens the conversation and
 * `session_confirm` returns its secret; then `user_uttered` carries {message} alone (the server
 * knows the socket's conversation and identity); renders `bot_uttered` (text,
 * quick_replies/buttons, links, pushed messages at any time).
 *
 * Safety: everything that comes from the conversation is put in the page with textContent or
 * as DOM nodes built here (links only for http/https URLs), never parsed as markup, so a name
 * typed as "<b>Léa</b>" shows exactly that.
 *
 * The page provides: #chat-config (JSON: socketUrl, socketPath, strings, demo), the launcher,
 * the panel, the log, the form; a city's own page may instead set window.VF_CHAT_CONFIG and
 * data-widget-token on the launcher (docs/CHANNELS.md).
 */
(function () {
  "use strict";

  var SESSION_KEY = "vf-chat-session";
  var TOKEN_KEY = "vf-chat-widget-token";
  var URL_PATTERN = /https?:\/\/[^\s<>"]+/g;
  var TRAILING = /[.,;:!?)]+$/;

  function readConfig() {
    if (window.VF_CHAT_CONFIG) return window.VF_CHAT_CONFIG;
    var node = document.getElementById("chat-config");
    return node ? JSON.parse(node.textContent) : {};
  }

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, name) {
      return values[name] !== undefined ? String(values[name]) : "";
    });
  }

  function storage() {
    try {
      return window.sessionStorage;
    } catch (e) {
      return null; // private mode or blocked storage: the chat still works, without resuming
    }
  }

  var config = readConfig();
  var strings = config.strings || {};
  var launcher = document.getElementById("chat-launcher");
  var panel = document.getElementById("chat-panel");
  var closeButton = document.getElementById("chat-close");
  var log = document.getElementById("chat-log");
  var form = document.getElementById("chat-form");
  var input = document.getElementById("chat-input");
  var statusLine = document.getElementById("chat-status");
  var badge = document.getElementById("chat-badge");
  var store = storage();
  var socket = null;
  var sessionId = store ? store.getItem(SESSION_KEY) : null;
  var confirmed = false; // Rasa ignores messages sent before the session is confirmed
  var pending = [];
  var unread = 0;

  function widgetToken() {
    var fromPage = launcher && launcher.getAttribute("data-widget-token");
    if (fromPage) return fromPage;
    return store ? store.getItem(TOKEN_KEY) : null;
  }

  function setStatus(text) {
    statusLine.textContent = text || "";
  }

  // ------------------------------------------------------------------ panel

  function isOpen() {
    return !panel.hidden;
  }

  function openPanel() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    document.body.classList.add("chat-open");
    unread = 0;
    badge.hidden = true;
    badge.textContent = "";
    connect();
    scrollToEnd();
    input.focus();
  }

  function closePanel() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    document.body.classList.remove("chat-open");
    launcher.focus();
  }

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function noteUnread() {
    if (isOpen()) return;
    unread += 1;
    badge.hidden = false;
    badge.textContent = String(unread);
    badge.setAttribute("aria-label", strings.new_message || "");
  }

  // ------------------------------------------------------------------ rendering

  // Text with its links: text nodes and <a> elements, never HTML parsing.
  function appendTextWithLinks(parent, text) {
    var last = 0;
    text.replace(URL_PATTERN, function (match, offset) {
      var url = match.replace(TRAILING, "");
      if (offset > last) parent.appendChild(document.createTextNode(text.slice(last, offset)));
      var link = document.createElement("a");
      link.href = url;
      link.textContent = url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      if (/\/p\/[A-Za-z0-9_-]+$/.test(url)) {
        link.className = "pay-link";
        link.setAttribute("aria-label", (strings.pay_link || "") + " : " + url);
      }
      parent.appendChild(link);
      last = offset + url.length;
      return match;
    });
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function addMessage(who, text) {
    var hint = log.querySelector(".chat-hint");
    if (hint) hint.remove();
    var item = document.createElement("div");
    item.className = "msg msg-" + who;
    var author = document.createElement("span");
    author.className = "visually-hidden";
    author.textContent = (who === "user" ? strings.you : strings.bot) + " : ";
    item.appendChild(author);
    var bubble = document.createElement("p");
    bubble.className = "bubble";
    // Paragraphs and line breaks as the bot wrote them (CSS white-space keeps the newlines).
    appendTextWithLinks(bubble, String(text));
    item.appendChild(bubble);
    log.appendChild(item);
    scrollToEnd();
    return item;
  }

  function addChoices(item, choices) {
    var group = document.createElement("div");
    group.className = "choices";
    group.setAttribute("role", "group");
    choices.forEach(function (choice) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "choice";
      button.textContent = String(choice.title);
      button.addEventListener("click", function () {
        Array.prototype.forEach.call(group.querySelectorAll("button"), function (b) {
          b.disabled = true;
        });
        button.classList.add("chosen");
        send(String(choice.payload || choice.title), String(choice.title));
        input.focus();
      });
      group.appendChild(button);
    });
    item.appendChild(group);
    scrollToEnd();
  }

  function onBotMessage(message) {
    if (!message) return;
    var text = message.text;
    var attachment = message.attachment;
    if (!text && attachment && attachment.payload && attachment.payload.src) {
      text = String(attachment.payload.src);
    } else if (!text && typeof attachment === "string") {
      text = attachment;
    }
    var choices = message.quick_replies || message.buttons || [];
    if (!text && !choices.length) return;
    var item = addMessage("bot", text || "");
    if (choices.length) addChoices(item, choices);
    noteUnread();
  }

  // ------------------------------------------------------------------ socket

  function connect() {
    if (socket) return;
    if (typeof window.io !== "function") {
      setStatus(strings.status_offline);
      return;
    }
    setStatus(strings.status_connecting);
    // One websocket, never long-polling: each polling request is a new HTTP request that a
    // balancer may send to another Rasa process, which does not know the socket.io session
    // (docs/DEPLOYMENT.md, "Several Rasa processes").
    socket = window.io(config.socketUrl, {
      path: config.socketPath || "/socket.io",
      transports: ["websocket"],
    });
    socket.on("connect", function () {
      setStatus(strings.status_connected);
      // The widget token travels here only: the server keeps it for this socket.
      var request = { session_id: sessionId };
      var token = widgetToken();
      if (token) request.widget_token = token;
      socket.emit("session_request", request);
    });
    socket.on("session_confirm", function (data) {
      var id = data && typeof data === "object" ? data.session_id : data;
      if (id) {
        sessionId = String(id);
        if (store) store.setItem(SESSION_KEY, sessionId);
      }
      confirmed = true;
      var queued = pending;
      pending = [];
      queued.forEach(emitMessage);
    });
    socket.on("bot_uttered", onBotMessage);
    socket.on("disconnect", function () {
      confirmed = false;
      setStatus(strings.status_offline);
    });
    socket.on("connect_error", function () {
      setStatus(strings.status_offline);
    });
  }

  function restart() {
    // A new identity means a new conversation (the bot identifies at session start).
    sessionId = null;
    confirmed = false;
    if (store) store.removeItem(SESSION_KEY);
    if (socket) {
      socket.disconnect();
      socket = null;
    }
    connect();
  }

  function emitMessage(message) {
    socket.emit("user_uttered", { message: message });
  }

  function send(message, shownAs) {
    if (!socket) connect();
    if (!socket) {
      setStatus(strings.send_failed);
      return false;
    }
    addMessage("user", shownAs || message);
    if (confirmed && socket.connected) emitMessage(message);
    else pending.push(message); // sent as soon as the session is confirmed
    return true;
  }

  // ------------------------------------------------------------------ demo login

  function setupDemo() {
    var demo = config.demo;
    var demoForm = document.getElementById("chat-demo");
    if (!demo || !demoForm) return;
    var select = document.getElementById("chat-demo-family");
    var demoNote = document.getElementById("chat-demo-note");
    var current = store ? store.getItem(TOKEN_KEY + ":client") : null;
    if (current) select.value = current;
    demoForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var client = select.value;
      if (!client) {
        if (store) {
          store.removeItem(TOKEN_KEY);
          store.removeItem(TOKEN_KEY + ":client");
        }
        restart();
        demoNote.textContent = demo.strings.logged_out;
        return;
      }
      fetch(demo.tokenUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ client_number: client }),
      })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (data) {
          if (store) {
            store.setItem(TOKEN_KEY, data.widget_token);
            store.setItem(TOKEN_KEY + ":client", client);
          }
          var family = demo.families.filter(function (f) {
            return f.clientNumber === client;
          })[0];
          restart();
          demoNote.textContent = format(demo.strings.logged_in, {
            name: family ? family.name : "",
            client: client,
          });
          input.focus();
        })
        .catch(function () {
          demoNote.textContent = demo.strings.failed;
        });
    });
  }

  // ------------------------------------------------------------------ wiring

  launcher.addEventListener("click", function () {
    if (isOpen()) closePanel();
    else openPanel();
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-chat-open]"), function (b) {
    b.addEventListener("click", openPanel);
  });
  closeButton.addEventListener("click", closePanel);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closePanel();
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    if (send(text)) input.value = "";
    input.focus();
  });
  setupDemo();
  // Resume an ongoing conversation (and receive pushed messages) without opening the panel.
  if (sessionId) connect();

  window.VFChat = { open: openPanel, close: closePanel, send: send };
})();
