// The hosted payment page: the card field is the payment provider's (Stripe.js, or
// localstripe's stand-in in the demo). The card goes from this browser to the provider; the
// server only receives the card-setup session's id. Every sentence shown comes from the server.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("config").textContent);
  var stripe = Stripe(config.key);
  var card = stripe.elements().create("card");
  card.mount("#carte");

  var form = document.getElementById("formulaire");
  var button = document.getElementById("payer");
  var alertBox = document.getElementById("alerte");
  var result = document.getElementById("resultat");
  var label = button.textContent;

  function say(box, text) {
    box.textContent = "";
    var p = document.createElement("p");
    p.textContent = text;
    box.appendChild(p);
    box.hidden = false;
    box.focus && box.setAttribute("tabindex", "-1");
    box.focus && box.focus();
  }

  function busy(on) {
    button.disabled = on;
    button.textContent = on ? config.texts.working : label;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
    }).then(function (response) {
      return response.json().catch(function () {
        return { status: "failed", message: config.texts.failed };
      });
    });
  }

  function finish(answer) {
    if (answer.status === "requires_action" && answer.client_secret) {
      return stripe.confirmCardPayment(answer.client_secret).then(function (outcome) {
        var intent = outcome.paymentIntent;
        var id = intent ? intent.id : answer.client_secret.split("_secret_")[0];
        return post(config.done, { payment_id: id }).then(finish);
      });
    }
    if (answer.status === "paid" || answer.status === "refunded") {
      document.getElementById("paiement").hidden = true;
      alertBox.hidden = true;
      say(result, answer.message);
      return;
    }
    busy(false);
    say(alertBox, answer.message || config.texts.failed);
    if (answer.status === "declined") {
      // A new card needs a new card-setup session: the page asks for one.
      setTimeout(function () { window.location.reload(); }, 4000);
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    alertBox.hidden = true;
    busy(true);
    stripe
      .confirmCardSetup(config.secret, { payment_method: { card: card } })
      .then(function (outcome) {
        if (outcome.error || !outcome.setupIntent) {
          busy(false);
          var declined = outcome.error && outcome.error.code === "card_declined";
          say(alertBox, declined ? config.texts.declined : config.texts.failed);
          return;
        }
        return post(config.pay, { setup_id: outcome.setupIntent.id }).then(finish);
      })
      .catch(function () {
        busy(false);
        say(alertBox, config.texts.failed);
      });
  });
})();
