"""A season the city runs in deferred payment: the order is taken, places are kept, nothing is
charged and the bot says why; when the city switches the season back to normal payment, the
link goes out by itself. Its own module: the season's mode is this backend's alone."""

from __future__ import annotations

from flows import (
    fill_form,
    identify,
    new_chat,
    open_conversation,
    registration_done,
    start_checkout,
)
from harness import http_json, outbox, responses, staff_headers


def _set_payment_mode(backend_url: str, mode: str) -> None:
    season = http_json("GET", f"{backend_url}/api/season")
    http_json(
        "PATCH",
        f"{backend_url}/api/staff/seasons/{season['id']}",
        {"payment_mode": mode},
        headers=staff_headers(backend_url),
    )


async def test_deferred_season_takes_the_order_without_charging_then_sends_the_link(
    backend_url: str,
) -> None:
    _set_payment_mode(backend_url, "deferred")
    chat = new_chat()
    await open_conversation(
        chat, "je veux inscrire Emma au camp de jour au parc des erables la semaine 6"
    )
    await identify(chat, backend_url, "100002", "418-555-0102")
    await fill_form(chat, {"reg_options": "non", "reg_tshirt": "M"})
    await registration_done(chat)
    await start_checkout(chat, "je veux payer")
    await fill_form(chat, {"pay_installments": "1", "pay_accept": "oui"})
    replies = await chat.run("action_checkout")

    assert responses(replies) == ["utter_checkout_deferred"], chat.dump()
    said = replies[0].text
    assert "aucun paiement pour l'instant" in said and "/p/" not in said
    links_before = [r for r in outbox(backend_url) if r["kind"] == "payment_link"]
    assert not [r for r in links_before if r["recipient"].endswith("4185550102")]

    # The city opens payment: Marc's link goes out without him asking.
    _set_payment_mode(backend_url, "normal")
    links = [
        r
        for r in outbox(backend_url)
        if r["kind"] == "payment_link" and r["recipient"].endswith("4185550102")
    ]
    assert links and "/p/" in links[0]["body"], links
