"""The yardstick of registration night: a bare Sanic app that sends, for one reservation, the
SQL statements our `POST /api/cart/lines` sends (captured from its hot path with
`bench/registration_night.py --show-statements`), and nothing else: no ORM, no validation
layer, no OpenAPI, no rate limiter. Same engine and pool (`make_engine`), same transactions
(`run_transaction`: BEGIN IMMEDIATE behind the process's writer lock on SQLite), same number
of database threads. What our route costs beyond it is what the framework layers cost.

    .venv/bin/python bench/minimal_reservation.py --port P --database-url URL [--workers 8]

`POST /reserve` {"child_id", "session_id"} with `X-Family-Token`: the child's outcome (held
or waitlisted with its rank) and the family's cart lines, as JSON. It decides nothing our
backend would refuse (the bench only sends requests our backend accepts).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

from sanic import Request, Sanic, json
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.adapters.demo_clock import OffsetClock  # noqa: E402
from backend.db.engine import make_engine, make_session_factory, run_transaction  # noqa: E402

HOLD_MINUTES = 20
ACTIVE = ("confirmed", "held", "waitlisted", "offered")
IN_CART = ("held", "waitlisted", "offered")

# The write transaction, in our route's order; {lock} is PostgreSQL's row locks (SQLite's
# BEGIN IMMEDIATE already serialises writers). FAMILY is only read for an empty cart.
FAMILY = ("SELECT family.id, family.client_number, family.phone, family.phone_can_text,"
          " family.email, family.address, family.resident, family.status, family.created_at"
          " FROM family WHERE family.id = :family")
SESSIONS = (
    "SELECT session.id, session.group_id, session.number, session.starts_on, session.ends_on,"
    " session.meets, session.meets_weekdays, session.meets_from, session.meets_until,"
    " session.pool_id, session.price_resident_cents, session.price_nonresident_cents,"
    " season_1.id AS id_1, season_1.name, season_1.year, season_1.residents_open_at,"
    " season_1.nonresidents_open_at, season_1.closes_at, season_1.payment_mode,"
    " program_1.id AS id_2, program_1.season_id, program_1.name AS name_1, program_1.category,"
    " program_1.description, program_1.needs_tshirt, activity_group_1.id AS id_3,"
    " activity_group_1.program_id, activity_group_1.site_id, activity_group_1.label,"
    " activity_group_1.level, activity_group_1.min_age, activity_group_1.max_age,"
    " session_option_1.id AS id_4, session_option_1.session_id, session_option_1.code,"
    " session_option_1.price_cents, session_option_1.pool_id AS pool_id_1"
    " FROM session LEFT OUTER JOIN activity_group AS activity_group_1"
    " ON activity_group_1.id = session.group_id LEFT OUTER JOIN program AS program_1"
    " ON program_1.id = activity_group_1.program_id LEFT OUTER JOIN season AS season_1"
    " ON season_1.id = program_1.season_id LEFT OUTER JOIN session_option AS session_option_1"
    " ON session.id = session_option_1.session_id WHERE session.id IN (:session)")
RUSH = ("SELECT rush.id, rush.season_id, rush.state, rush.opens_at, rush.rate_per_minute,"
        " rush.cap, rush.credit, rush.credited_at, rush.last_seq, rush.admitted_through,"
        " rush.drawn_at, rush.draw_order, rush.created_at, rush.closed_at FROM rush"
        " WHERE rush.season_id IN (SELECT program.season_id FROM program JOIN activity_group"
        " ON activity_group.program_id = program.id JOIN session"
        " ON session.group_id = activity_group.id WHERE session.id IN (:session))"
        " AND rush.state != 'closed' AND rush.opens_at <= :now")
CHILD = (
    "SELECT person.id, person.family_id, person.first_name, person.last_name,"
    " person.birth_date, person.is_adult, person.is_payer, person.tshirt_size,"
    " line.id AS line_id, session.id AS session_id, session.number, session.starts_on,"
    " session.ends_on, session.meets_weekdays, session.meets_from, session.meets_until,"
    " program.name AS program, activity_group.label AS \"group\", site.name AS site,"
    " family_1.id AS id_1, family_1.client_number, family_1.phone, family_1.phone_can_text,"
    " family_1.email, family_1.address, family_1.resident, family_1.status,"
    " family_1.created_at"
    " FROM person LEFT OUTER JOIN (line JOIN session ON session.id = line.session_id"
    " JOIN activity_group ON activity_group.id = session.group_id JOIN program"
    " ON program.id = activity_group.program_id LEFT OUTER JOIN site"
    " ON site.id = activity_group.site_id) ON line.person_id = person.id"
    " AND (line.status = 'confirmed' OR line.status = 'held' AND line.hold_expires_at > :now)"
    " AND session.starts_on <= :last AND session.ends_on >= :first"
    " LEFT OUTER JOIN family AS family_1 ON family_1.id = person.family_id"
    " WHERE person.id = :child ORDER BY coalesce(line.id, 0){lock}")
CART = ("SELECT cart.id, cart.family_id, cart.is_open, cart.created_at FROM cart"
        " WHERE cart.family_id = :family AND cart.is_open IS true ORDER BY cart.id")
NEW_CART = ("INSERT INTO cart (family_id, is_open, created_at) VALUES (:family, true, :now)"
            " RETURNING id")
LOCK_POOLS = ("SELECT capacity_pool.id FROM capacity_pool WHERE capacity_pool.id IN"
              " (SELECT session.pool_id FROM session WHERE session.id IN (:session) UNION"
              " SELECT session_option.pool_id FROM session_option"
              " WHERE session_option.session_id IN (:session))"
              " ORDER BY capacity_pool.id FOR UPDATE")
SURVEY = (
    "SELECT session.id, (SELECT line.id FROM line WHERE line.session_id = session.id"
    " AND line.person_id = :child AND line.status IN ('confirmed', 'held', 'waitlisted',"
    " 'offered') ORDER BY line.id LIMIT 1) AS own, CASE WHEN (EXISTS (SELECT * FROM line"
    " WHERE line.session_id = session.id AND (line.status = 'held'"
    " AND line.hold_expires_at <= :now OR line.status = 'offered'"
    " AND line.offer_expires_at <= :now))) THEN 1 ELSE 0 END AS expired,"
    " CASE WHEN (capacity_pool.taken < capacity_pool.capacity AND (EXISTS (SELECT * FROM line"
    " WHERE line.session_id = session.id AND line.status = 'waitlisted'))) THEN 1 ELSE 0 END"
    " AS offerable, (SELECT count(line.id) FROM line WHERE line.session_id = session.id"
    " AND line.status = 'waitlisted' AND line.waitlisted_at <= :now) AS ahead"
    " FROM session JOIN capacity_pool ON capacity_pool.id = session.pool_id"
    " WHERE session.id IN (:session)")
TAKE = ("UPDATE capacity_pool SET taken=(capacity_pool.taken + 1) WHERE capacity_pool.id = :pool"
        " AND capacity_pool.taken < capacity_pool.capacity")
NEW_LINE = ("INSERT INTO line (cart_id, person_id, session_id, status, base_price_cents,"
            " tshirt_size, created_at, hold_expires_at, waitlisted_at, offered_at,"
            " offer_expires_at, order_id) VALUES (:cart, :child, :session, :status, :price,"
            " :size, :now, :expires, :waitlisted, NULL, NULL, NULL) RETURNING id")
# The read transaction after the commit: the cart as our route shows it.
CART_LINES = (
    "SELECT line.id, line.cart_id, line.person_id, line.session_id, line.status,"
    " line.base_price_cents, line.tshirt_size, line.created_at, line.hold_expires_at,"
    " line.waitlisted_at, line.offered_at, line.offer_expires_at, line.order_id,"
    " person_1.first_name, person_1.last_name, program_1.name, site_1.name AS site,"
    " activity_group_1.label, session_1.number, session_1.starts_on, session_1.ends_on"
    " FROM line JOIN person ON person.id = line.person_id LEFT OUTER JOIN person AS person_1"
    " ON person_1.id = line.person_id LEFT OUTER JOIN session AS session_1"
    " ON session_1.id = line.session_id LEFT OUTER JOIN activity_group AS activity_group_1"
    " ON activity_group_1.id = session_1.group_id LEFT OUTER JOIN program AS program_1"
    " ON program_1.id = activity_group_1.program_id LEFT OUTER JOIN site AS site_1"
    " ON site_1.id = activity_group_1.site_id WHERE person.family_id = :family"
    " AND line.status IN ('held', 'waitlisted', 'offered') ORDER BY line.id")
LINE_OPTIONS = (
    "SELECT line_option.line_id, line_option.id, line_option.session_option_id,"
    " line_option.price_cents, line_option.holds_place, session_option_1.code"
    " FROM line_option LEFT OUTER JOIN session_option AS session_option_1"
    " ON session_option_1.id = line_option.session_option_id"
    " WHERE line_option.line_id IN (:line)")
RANKS = ("SELECT line.id, (SELECT count(line_1.id) FROM line AS line_1"
         " WHERE line_1.session_id = line.session_id AND line_1.status = 'waitlisted'"
         " AND (line_1.waitlisted_at < line.waitlisted_at OR line_1.waitlisted_at"
         " = line.waitlisted_at AND line_1.id < line.id)) AS ahead FROM line"
         " WHERE line.id IN (:line)")
TOKEN = ("SELECT family_session.token_hash, family_session.family_id, family_session.created_at,"
         " family_session.expires_at, family_session.via FROM family_session"
         " WHERE family_session.token_hash = :hash")


def reserve(db: Session, family_id: int, child_id: int, session_id: int,
            clock: OffsetClock) -> dict[str, Any]:
    postgres = db.get_bind().dialect.name == "postgresql"
    run = db.execute
    now = clock.now()
    session = run(text(SESSIONS), {"session": session_id}).all()[0]
    run(text(RUSH), {"session": session_id, "now": now}).all()
    lock = " FOR UPDATE OF person" if postgres else ""
    family = run(text(CHILD.format(lock=lock)), {"now": now, "first": session.starts_on,
                                                  "last": session.ends_on,
                                                  "child": child_id}).all()[0]
    cart = run(text(CART), {"family": family_id}).first()
    cart_id = cart.id if cart else run(text(NEW_CART), {"family": family_id, "now": now}).scalar()
    if postgres:
        run(text(LOCK_POOLS), {"session": session_id}).all()
    now = clock.now()  # after the lock: the rank counts lines waitlisted at this instant or before
    survey = run(text(SURVEY), {"child": child_id, "now": now, "session": session_id}).one()
    held = run(text(TAKE), {"pool": session.pool_id}).rowcount == 1  # type: ignore[attr-defined]
    price = session.price_resident_cents if family.resident else session.price_nonresident_cents
    line_id = run(text(NEW_LINE), {
        "cart": cart_id, "child": child_id, "session": session_id,
        "status": "held" if held else "waitlisted", "price": price, "size": "P", "now": now,
        "expires": now + timedelta(minutes=HOLD_MINUTES) if held else None,
        "waitlisted": None if held else now}).scalar()
    return {"session_id": session_id, "week": session.number,
            "outcome": "held" if held else "waitlisted", "line_id": line_id,
            "waitlist_position": None if held else survey.ahead + 1}


def cart(db: Session, family_id: int) -> list[dict[str, Any]]:
    run = db.execute
    lines = run(text(CART_LINES), {"family": family_id}).all()
    ids = [line.id for line in lines]
    if not ids:
        run(text(FAMILY), {"family": family_id}).one()
    else:
        run(text(LINE_OPTIONS).bindparams(bindparam("line", expanding=True)), {"line": ids}).all()
    waiting = [line.id for line in lines if line.status == "waitlisted"]
    ranks = dict(run(text(RANKS).bindparams(bindparam("line", expanding=True)),
                     {"line": waiting}).all()) if waiting else {}
    return [{"line_id": line.id, "session_id": line.session_id, "status": line.status,
             "price_cents": line.base_price_cents, "program": line.name, "week": line.number,
             "waitlist_position": ranks[line.id] + 1 if line.id in ranks else None}
            for line in lines]


def make_app(url: str, workers: int) -> Sanic[Any, Any]:
    app: Sanic[Any, Any] = Sanic("minimal_reservation")
    factory = make_session_factory(make_engine(url))
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="db")
    clock = OffsetClock.demo()
    tokens: dict[str, int] = {}

    def token_family(token: str) -> int | None:
        hashed = hashlib.sha256(token.encode()).hexdigest()
        row = run_transaction(factory, lambda db: db.execute(
            text(TOKEN), {"hash": hashed}).first(), write=False)
        return None if row is None else int(row.family_id)

    def both(family_id: int, child_id: int, session_id: int) -> dict[str, Any]:
        result = run_transaction(factory, lambda db: reserve(
            db, family_id, child_id, session_id, clock))
        lines = run_transaction(factory, lambda db: cart(db, family_id), write=False)
        return {"results": [result], "cart": {"lines": lines}}

    @app.post("/reserve")
    async def post_reserve(request: Request) -> Any:
        loop = asyncio.get_running_loop()
        token = request.headers.get("x-family-token", "")
        family_id = tokens.get(token)
        if family_id is None:
            family_id = await loop.run_in_executor(executor, token_family, token)
            if family_id is None:
                return json({"error": "unauthorized"}, status=401)
            tokens[token] = family_id
        body = request.json
        return json(await loop.run_in_executor(
            executor, both, family_id, int(body["child_id"]), int(body["session_ids"][0])))

    @app.get("/health")
    async def health(_request: Request) -> Any:
        return json({"ok": True})

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    make_app(args.database_url, args.workers).run(
        host="127.0.0.1", port=args.port, single_process=True, access_log=False)


if __name__ == "__main__":
    main()
