"""Registration, cart and checkout actions against the real backend (demo city, clock at
20 April 2027, 19 h): what the parent reads (prices "135,00 $", dates "jeudi 20 mai 2027") and
what the backend holds afterwards (GET /api/cart with the family token, the demo outbox, the
hosted payment page). Tests share one database, in file order (each uses its own family or
child)."""

from __future__ import annotations

import html
import re
import urllib.request

from flows import (
    fill_form,
    identify,
    new_chat,
    open_conversation,
    registration_done,
    start_checkout,
)
from harness import Chat, cart, http_json, outbox, responses, staff_headers

LINK = re.compile(r"https?://\S+/p/[A-Za-z0-9_-]+")
NBSP = "\u00a0"
HELD = r"Places réservées jusqu'à \d{1,2} h \d\d : "  # the hold's expiry, local time


def plain(text: str) -> str:
    """Babel puts a no-break space in "95,00 $"; compare with ordinary spaces."""
    return text.replace(NBSP, " ").replace("\u202f", " ")


def lines_of(base_url: str, chat: Chat, child: str) -> list[dict]:
    return [
        line
        for line in cart(base_url, chat.token)["lines"]
        if line["child"] == child
    ]


def payment_page(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return plain(html.unescape(response.read().decode()))


async def test_facts_given_before_identification_then_one_payment(backend_url: str) -> None:
    chat = new_chat()
    replies = await open_conversation(
        chat,
        "allo! j'aimerais inscrire Léa au camp du parc de la Rivière pour les semaines 2 à 4 "
        "avec le service de garde",
    )
    assert responses(replies)[-1] == "utter_ask_id_client_number_noted", chat.dump()
    replies = await identify(chat, backend_url, "100001", "418-555-0101")
    # every fact of the first message was kept and resolved once the family was known, and
    # Léa's T-shirt size is on file: nothing is left to ask
    assert responses(replies) == ["utter_identified"], chat.dump()
    assert chat.slots["reg_weeks"] == [2, 3, 4] and chat.slots["reg_options"] == {"garde": None}
    assert chat.active_loop is None, chat.dump()
    replies = await registration_done(chat)
    assert responses(replies) == ["utter_added", "utter_cart", "utter_ask_next_step"], chat.dump()
    added, shown = plain(replies[0].text), plain(replies[1].text)
    assert "Léa — Camp de jour, Parc de la Rivière, 9-12 ans" in added
    assert re.search(HELD + r"semaines 2, 3 et 4\.", added), added
    assert "semaine 2 (5 au 9 juillet) + Service de garde : 135,00 $" in shown, shown
    assert "Total : 405,00 $." in shown

    lines = lines_of(backend_url, chat, "Léa")
    assert sorted(line["week"] for line in lines) == [2, 3, 4]
    assert {line["status"] for line in lines} == {"held"}
    assert all([o["code"] for o in line["options"]] == ["garde"] for line in lines)
    assert {line["price_cents"] for line in lines} == {13500}
    assert {line["site"] for line in lines} == {"Parc de la Rivière"} and lines[0][
        "tshirt_size"
    ] == "P"

    # "non c'est tout" after the cart means checkout (rule "no more registrations: checkout")
    replies = await start_checkout(chat, "non c'est tout", "deny")
    assert responses(replies)[-1] == "utter_ask_pay_installments", chat.dump()
    question = plain(replies[-1].text)
    assert "Total : 405,00 $" in question
    assert "(202,50 $ maintenant et 202,50 $ le jeudi 20 mai 2027)" in question, question

    replies = await chat.answer("en un seul versement")
    assert responses(replies) == ["utter_ask_pay_accept"], chat.dump()
    recap = plain(replies[0].text)
    assert "payé en 1 versement de 405,00 $ aujourd'hui" in recap and recap.count(": 135,00 $") == 3

    replies = await chat.answer("oui j'accepte", "affirm")
    assert chat.active_loop is None
    replies = await chat.run("action_checkout")
    assert responses(replies) == ["utter_checkout_link"], chat.dump()
    link = LINK.search(replies[0].text)
    assert link, replies[0].text
    assert "texto" in replies[0].text and "fiche santé" in replies[0].text
    assert "Payer 405,00 $" in payment_page(link.group(0))
    sent = [
        row
        for row in outbox(backend_url)
        if row["kind"] == "payment_link" and "4185550101" in row["recipient"]
    ]
    assert any(link.group(0) in row["body"] for row in sent)


async def test_full_week_waitlist_with_position_then_a_line_removed(backend_url: str) -> None:
    chat = new_chat()
    await open_conversation(
        chat, "allo, jveux inscrire Thomas au camp au parc des Erables, semaines 1 a 3"
    )
    replies = await identify(chat, backend_url, "100001", "418-555-0101")
    assert responses(replies)[-1] == "utter_ask_reg_options_garde", chat.dump()
    assert "40,00 $ par semaine" in plain(replies[-1].text)

    replies, asked = await fill_form(
        chat,
        {
            "reg_options": "non merci",
            "reg_waitlist": "oui, mettez-le sur la liste",
        },
    )
    # one option at a time; Thomas's size is on file
    assert asked == ["reg_options", "reg_options", "reg_waitlist"], chat.dump()
    waitlist_question = next(t for t in chat.transcript if "utter_ask_reg_waitlist" in t)
    assert "Semaine 1 : c'est complet" in waitlist_question and "aucuns frais" in waitlist_question

    replies = await registration_done(chat)
    added = plain(replies[0].text)
    position = int(re.search(r"Semaine 1 : rang (\d+) sur la liste d'attente", added).group(1))
    assert re.search(HELD + r"semaines 2 et 3\.", added), added
    lines = {line["week"]: line for line in lines_of(backend_url, chat, "Thomas")}
    assert set(lines) == {1, 2, 3}
    assert lines[1]["status"] == "waitlisted" and lines[1]["waitlist_position"] == position == 1
    assert lines[2]["status"] == lines[3]["status"] == "held"
    assert "liste d'attente, rang 1 (sans frais)" in replies[1].text
    # Léa's lines wait for their payment in the same cart (405,00 $); Thomas adds 2 × 95,00 $
    # and nothing for the waitlisted week
    payable = cart(backend_url, chat.token)["payable_cents"]
    assert payable == 40500 + 19000
    assert "Total : 595,00 $." in plain(replies[1].text)

    chat.say("enlève la semaine 3 svp", "remove_line")
    replies = await chat.run("action_remove_line")
    assert responses(replies) == ["utter_line_removed", "utter_cart", "utter_ask_next_step"]
    assert chat.slots["awaiting"] == "next_step"
    assert "C'est retiré : Thomas — semaine 3 (12 au 16 juillet)." in replies[0].text
    assert (
        sorted(lines_of(backend_url, chat, "Thomas"), key=lambda line: line["week"])[-1]["week"]
        == 2
    )
    assert "Total : 500,00 $." in plain(replies[1].text)

    chat.say("enlève la semaine 7", "remove_line")
    replies = await chat.run("action_remove_line")
    assert responses(replies) == ["utter_line_not_found"], chat.dump()
    assert len(lines_of(backend_url, chat, "Thomas")) == 2


async def test_ineligible_child_explained_and_two_installments_refused_for_swimming(
    backend_url: str,
) -> None:
    chat = new_chat()
    await open_conversation(chat, "bonjour je veux inscrire Emma au soccer")
    replies = await identify(chat, backend_url, "100002", "418-555-0102")
    assert responses(replies) == [
        "utter_identified",
        "utter_not_eligible",
        "utter_ask_reg_program",
    ], chat.dump()
    explained = replies[1].text
    # Emma (born 10 September 2016) is 11 on 30 September 2027; soccer is for 6 to 9
    assert explained.startswith(
        "Emma aura 11 ans le 30 septembre 2027 : Soccer récréatif est pour les 6 à 9 ans"
    )
    offered = [b["title"] for b in replies[2].buttons]
    assert "Soccer récréatif" not in offered and offered, replies[2]

    replies, asked = await fill_form(
        chat, {"reg_program": "natation niveau 3", "reg_options": "aucune"}
    )
    assert asked == ["reg_program"], chat.dump()  # level, the 8 Saturdays and no T-shirt follow
    replies = await registration_done(chat)
    assert "Natation Junior" in replies[0].text and "Total : 85,00 $." in plain(replies[1].text), (
        chat.dump()
    )
    (line,) = lines_of(backend_url, chat, "Emma")
    assert (
        line["category"] == "natation" and line["price_cents"] == 8500 and line["status"] == "held"
    )

    terms = http_json(
        "GET",
        f"{backend_url}/api/checkout/terms",
        headers={"X-Family-Token": chat.token},
    )
    assert terms["allowed"] == [1]
    replies = await start_checkout(chat, "je veux payer en 2 versements")
    assert responses(replies) == [
        f"utter_installments_refused_{terms['refused_reason']}",
        "utter_ask_pay_accept",
    ], chat.dump()
    assert "seulement quand le panier ne contient que des camps de jour" in replies[0].text
    assert chat.slots["pay_installments"] == "1"
    assert "payé en 1 versement de 85,00 $ aujourd'hui" in plain(replies[1].text)

    # asking again inside the form gets the same reason, never a 2-installment order
    replies = await chat.answer("non je veux vraiment deux versements")
    # its "non" is about the plan, not the terms: the reason again, then the same recap question
    assert responses(replies) == [
        "utter_installments_refused_not_day_camp",
        "utter_ask_pay_accept",
    ], chat.dump()
    assert chat.slots["pay_accept"] is None
    replies = await chat.answer("ok oui", "affirm")
    replies = await chat.run("action_checkout")
    link = LINK.search(replies[0].text)
    assert link, chat.dump()
    page = payment_page(link.group(0))
    assert "Payer 85,00 $" in page and "Versement 2" not in page


async def test_non_resident_pays_in_two_installments(backend_url: str) -> None:
    chat = new_chat()
    await open_conversation(
        chat,
        "Bonjour, je veux inscrire Yasmine au camp de jour au parc de la Rivière "
        "les semaines 5 et 6",
    )
    await identify(chat, backend_url, "100004", "581-555-0104")
    replies, asked = await fill_form(chat, {"reg_options": "non", "reg_tshirt": "M"})
    assert asked == ["reg_options", "reg_options", "reg_tshirt"], chat.dump()
    replies = await registration_done(chat)
    assert "Total : 280,00 $." in plain(replies[1].text), (
        chat.dump()
    )  # 140,00 $ a week, non-resident
    assert {line["tshirt_size"] for line in lines_of(backend_url, chat, "Yasmine")} == {"M"}

    replies = await start_checkout(chat, "on peut payer")
    question = plain(replies[-1].text)
    assert "(140,00 $ maintenant et 140,00 $ le jeudi 20 mai 2027)" in question, chat.dump()
    replies = await chat.answer("en 2 versements svp")
    recap = plain(replies[-1].text)
    assert (
        "payé en 2 versements : 140,00 $ aujourd'hui et 140,00 $ le jeudi 20 mai 2027" in recap
    ), chat.dump()
    await chat.answer("oui", "affirm")
    replies = await chat.run("action_checkout")
    link = LINK.search(replies[0].text)
    assert link, chat.dump()
    page = payment_page(link.group(0))
    assert "Payer 140,00 $" in page and "Total de la commande : 280,00 $" in page, page[-2000:]
    assert "Versement 2 : 140,00 $" in page


async def test_unknown_child_and_missing_level_are_explained(backend_url: str) -> None:
    chat = new_chat()
    await open_conversation(chat, "je veux inscrire un enfant")
    replies = await identify(chat, backend_url, "100001", "418-555-0101")
    assert responses(replies)[-1] == "utter_ask_reg_child", chat.dump()
    replies = await chat.answer("c'est pour olivier")
    assert responses(replies) == ["utter_child_unknown", "utter_ask_reg_child"], chat.dump()
    assert replies[0].text.startswith(
        "Je ne trouve pas Olivier dans votre dossier familial (j'y vois Léa et Thomas)."
    )
    assert "418 555-0199" in replies[0].text  # who can add a child to the file

    replies = await chat.answer("Léa, natation niveau 12")
    assert responses(replies) == ["utter_group_not_found", "utter_ask_reg_group_level"], chat.dump()
    assert "Natation Junior n'est pas offert à Léa" in replies[0].text
    assert "Niveau 1" in replies[0].text and "Niveau 10" in replies[0].text
    replies = await chat.answer("niveau 4")
    assert chat.slots["reg_group"], chat.dump()
    assert (
        cart(backend_url, chat.token)["payable_cents"] == 40500 + 9500
    )  # nothing added yet


async def test_week_corrected_after_the_cart(backend_url: str) -> None:
    chat = new_chat()
    await open_conversation(chat, "inscrire Emma au camp de jour aux Érables semaine 3")
    await identify(chat, backend_url, "100002", "418-555-0102")
    await fill_form(chat, {"reg_options": "non", "reg_tshirt": "M"})
    await registration_done(chat)
    (week3,) = [
        line for line in lines_of(backend_url, chat, "Emma") if line["category"] == "camp_de_jour"
    ]
    assert week3["week"] == 3

    chat.say("oups je voulais dire la semaine 4", "correct")
    replies = await chat.run("action_correct")
    # the new weeks are shown and nothing changes before the parent agrees
    assert responses(replies) == ["utter_confirm_weeks"], chat.dump()
    assert "Emma aurait alors : semaine 4 (19 au 23 juillet)" in replies[0].text
    assert chat.slots["awaiting"] == "week_change"
    camp = [line for line in lines_of(backend_url, chat, "Emma") if line["week"] == 3]
    assert camp, chat.dump()
    chat.say("oui", "affirm")
    replies = await chat.run("action_apply_week_change")
    assert responses(replies) == ["utter_weeks_corrected", "utter_cart", "utter_ask_next_step"]
    assert (
        replies[0].text
        == "C'est corrigé pour Emma. Places réservées : semaine 4. Retiré du panier : semaine 3."
    )
    camp = [
        line for line in lines_of(backend_url, chat, "Emma") if line["category"] == "camp_de_jour"
    ]
    assert [(line["week"], line["status"], line["tshirt_size"]) for line in camp] == [
        (4, "held", "M")
    ]
    assert "semaine 4 (19 au 23 juillet)" in replies[1].text

    chat.say("je voulais dire la semaine 4", "correct")
    replies = await chat.run("action_correct")
    assert responses(replies) == ["utter_cart_unchanged", "utter_ask_next_step"], chat.dump()

    # a full week is never swapped for the place the parent has
    catalog = http_json("GET", f"{backend_url}/api/catalog")
    camp_program = next(p for p in catalog["programs"] if p["category"] == "camp_de_jour")
    group = next(
        g
        for g in camp_program["groups"]
        if g["label"] == "9-12 ans" and g["site"] == "Parc des Érables"
    )
    week5 = next(s for s in group["sessions"] if s["number"] == 5)
    http_json(
        "PATCH",
        f"{backend_url}/api/staff/sessions/{week5['id']}",
        {"capacity": 0},
        headers=staff_headers(backend_url),
    )
    chat.say("non c'est la semaine 5 que je voulais", "correct")
    replies = await chat.run("action_correct")
    assert responses(replies) == ["utter_confirm_weeks"], chat.dump()
    chat.say("oui", "affirm")
    replies = await chat.run("action_apply_week_change")
    assert responses(replies) == ["utter_weeks_kept", "utter_cart", "utter_ask_next_step"]
    assert replies[0].text == (
        "Semaine 5 : complète, pas d'inscription. Je n'ai donc rien retiré : "
        "Emma garde sa place au panier (semaine 4)."
    )
    camp = [
        line for line in lines_of(backend_url, chat, "Emma") if line["category"] == "camp_de_jour"
    ]
    assert [line["week"] for line in camp] == [4]
