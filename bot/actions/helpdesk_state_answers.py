"""The answers to a family's questions about its own file, from GET /api/family/status: each
question's function says what the parent reads (responses in bot/domain.yml)."""

from __future__ import annotations

from datetime import date
from typing import Any

from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .backend_client import BackendError, backend
from .checkout_terms import delivery
from .formatting import fragment, join_words, local_datetime, long_date, money
from .helpdesk_state_lines import all_lines, listing
from .reading.children import Child, parse_children

OWING = ("awaiting_payment", "partially_paid")
LIVE = ("scheduled", "failed")
Status = dict[str, Any]
Family = dict[str, Any]


class Answer:
    """One question's answer for one family: the status read once, the family file for names
    and where messages go."""

    def __init__(
        self,
        dispatcher: CollectingDispatcher,
        domain: DomainDict,
        token: str,
        status: Status,
        family: Family,
        text: str,
    ) -> None:
        self.dispatcher, self.domain, self.token = dispatcher, domain, token
        self.status, self.family, self.text = status, family, text

    def say(self, response: str, **values: Any) -> None:
        self.dispatcher.utter_message(response=response, **values)

    # ------------------------------------------------------------------ registrations
    def named_children(self) -> list[dict[str, Any]]:
        """The children the question names (« est-ce que Léa est inscrite ? »), else all."""
        children = [
            Child(int(c["id"]), str(c["first_name"]), date.fromisoformat(c["birth_date"]))
            for c in self.family.get("children", [])
        ]
        named = parse_children(self.text, children) or []
        every = self.status.get("children", [])
        return [c for c in every if c["id"] in named] or every

    def registrations(self) -> None:
        children = self.named_children()
        lines = [line for c in children for line in c.get("lines", [])]
        if not lines:
            names = join_words(self.domain, [c["first_name"] for c in children])
            self.say("utter_state_no_registration", children=names)
            return
        self.say("utter_state_registrations", lines=listing(self.domain, lines))

    def waitlist(self) -> None:
        lines = [
            line for line in all_lines(self.status) if line["status"] in ("waitlisted", "offered")
        ]
        if not lines:
            self.say("utter_state_no_waitlist")
            return
        self.say("utter_state_waitlist", lines=listing(self.domain, lines))

    # ------------------------------------------------------------------ money
    def balance(self) -> bool:
        """What is still due and when; False when nothing is."""
        owed = self.status.get("balance", {})
        if not owed.get("due_cents"):
            self.nothing_to_pay()
            return False
        orders = {o["id"]: o for o in self.status.get("orders", [])}
        items = []
        for inst in owed.get("installments", []):
            order = orders.get(inst["order_id"], {})
            by_link = inst["status"] == "failed" or order.get("status") == "awaiting_payment"
            items.append(
                fragment(
                    self.domain,
                    "utter_fragment_state_due_link" if by_link else "utter_fragment_state_due_auto",
                    amount=money(int(inst["amount_cents"])),
                    date=long_date(inst["due_on"]) if inst.get("due_on") else "",
                )
            )
        self.say(
            "utter_state_balance",
            due=money(int(owed["due_cents"])),
            installments="\n".join(f"- {i}" for i in items),
        )
        return True

    async def pay_balance(self) -> None:
        if self.balance():
            await self.new_link()

    async def card_declined(self) -> None:
        self.say("utter_state_card_declined")
        await self.new_link()

    async def new_link(self) -> None:
        """A new link for the order still owing (or the newest expired one), or what happened."""
        order = self.owing_order()
        if order is None:
            self.nothing_to_pay()
            return
        try:
            renewed = await backend.renew_link(self.token, int(order["id"]))
        except BackendError as err:
            if err.code == "places_released":
                self.say("utter_state_places_released")
            elif err.code == "nothing_due":
                self.say("utter_state_nothing_due")
            else:
                self.say("utter_backend_error")
            return
        due = next((i for i in renewed.get("installments", []) if i["status"] in LIVE), None)
        self.say(
            "utter_state_pay_link",
            amount=money(int(due["amount_cents"] if due else renewed.get("due_cents", 0))),
            expires=local_datetime(renewed["pay_link_expires_at"]),
            url=renewed.get("payment_url") or "",
            delivery=delivery(self.domain, self.family),
        )

    def owing_order(self) -> dict[str, Any] | None:
        orders = self.status.get("orders", [])
        owing = [o for o in orders if o["status"] in OWING]
        if owing:
            return owing[-1]  # the oldest debt first
        newest = orders[0] if orders else None
        return newest if newest and newest["status"] == "expired" else None

    def cart_not_ordered(self) -> bool:
        return any(
            line["status"] in ("held", "offered") and not line.get("order_id")
            for line in all_lines(self.status)
        )

    def nothing_to_pay(self) -> None:
        self.say(
            "utter_state_cart_not_ordered" if self.cart_not_ordered() else "utter_state_nothing_due"
        )

    # ------------------------------------------------------------------ the order's real state
    def newest_order(self) -> dict[str, Any] | None:
        """The order the parent means by « c'est confirmé ? »: the newest one not replaced by a
        later checkout."""
        orders = [o for o in self.status.get("orders", []) if o["status"] != "cancelled"]
        return orders[0] if orders else None

    async def payment_done(self) -> None:
        order = self.newest_order()
        if order is None:
            self.no_order()
            return
        if order["status"] in ("paid", "partially_paid", "refunded"):
            self.say(
                "utter_state_paid",
                paid=money(int(order["paid_cents"])),
                lines=listing(self.domain, self.order_lines(order)),
                rest=self.rest(order),
            )
        elif order["status"] == "deferred":
            self.say("utter_state_deferred", lines=listing(self.domain, self.order_lines(order)))
        else:
            self.say("utter_state_not_paid", total=money(int(order["total_cents"])))
            await self.new_link()

    async def no_confirmation(self) -> None:
        order = self.newest_order()
        if order is None:
            self.no_order()
            return
        if order["status"] in ("paid", "partially_paid", "deferred"):
            self.say(
                "utter_state_confirmation_sent",
                lines=listing(self.domain, self.order_lines(order)),
                where=self.where_sent(),
            )
            return
        self.say("utter_state_not_complete")
        await self.new_link()

    def no_order(self) -> None:
        """No order at all: registrations confirmed without one (staff, a deferred season) are
        shown; places in the cart are said not ordered yet."""
        if any(line["status"] == "confirmed" for line in all_lines(self.status)):
            self.registrations()
        elif self.cart_not_ordered():
            self.say("utter_state_cart_not_ordered")
        else:
            self.say("utter_state_no_order")

    def order_lines(self, order: dict[str, Any]) -> list[dict[str, Any]]:
        """The order's lines as they are now (a cancelled week no longer shows)."""
        ids = {line["id"] for line in order.get("lines", [])}
        return [line for line in all_lines(self.status) if line["id"] in ids]

    def rest(self, order: dict[str, Any]) -> str:
        due = [i for i in order.get("installments", []) if i["status"] in LIVE]
        if not due:
            return ""
        return fragment(
            self.domain,
            "utter_fragment_state_rest",
            amount=money(sum(int(i["amount_cents"]) for i in due)),
            date=long_date(due[0]["due_on"]),
        )

    def where_sent(self) -> str:
        email = self.family.get("email_masked")
        if email:
            return fragment(self.domain, "utter_fragment_state_sent_email", email=email)
        return fragment(
            self.domain, "utter_fragment_state_sent_sms", phone=self.family.get("phone_masked", "")
        )
