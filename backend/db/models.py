"""The database schema: SQLAlchemy 2 typed ORM models.

Every capacity (a group-week's places, a service de garde's places, a site's bicycle
places) is one `CapacityPool` row with a `taken` counter. Taking a place is a single
conditional `UPDATE … SET taken = taken + 1 WHERE taken < capacity`: under READ COMMITTED a
blocked UPDATE re-checks its WHERE clause on the new row version, so two parents can never
both get the last place (see docs/ARCHITECTURE.md). Money is always integer cents.
Timestamps are stored as naive UTC (SQLite has no time zone type); `backend.adapters.clock`
gives the current instant in that form.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.db.base import Base, stored_enum

# The states live in the pure domain layer; re-exported here for existing imports.
from backend.domain.states import AccountStatus as AccountStatus
from backend.domain.states import Category as Category
from backend.domain.states import InstallmentStatus as InstallmentStatus
from backend.domain.states import LineStatus as LineStatus
from backend.domain.states import OrderStatus as OrderStatus
from backend.domain.states import PaymentMode as PaymentMode
from backend.domain.states import RefundStatus as RefundStatus

# --------------------------------------------------------------------------- families


class Family(Base):
    __tablename__ = "family"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_number: Mapped[str] = mapped_column(String(20), unique=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)  # E.164, +14185550101
    phone_can_text: Mapped[bool] = mapped_column(Boolean, default=True)
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(200), default="")
    resident: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[AccountStatus] = mapped_column(stored_enum(AccountStatus))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    members: Mapped[list[Person]] = relationship(
        back_populates="family", order_by="Person.id", cascade="all, delete-orphan"
    )


class Person(Base):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    birth_date: Mapped[date] = mapped_column(Date)
    is_adult: Mapped[bool] = mapped_column(Boolean)
    # The payer gets the receipts and the Relevé 24.
    is_payer: Mapped[bool] = mapped_column(Boolean, default=False)
    tshirt_size: Mapped[str | None] = mapped_column(String(4))

    family: Mapped[Family] = relationship(back_populates="members")
    health: Mapped[HealthRecord | None] = relationship(
        back_populates="person", cascade="all, delete-orphan"
    )


class HealthRecord(Base):
    """Fiche santé. Sensitive: never sent by SMS, never copied into the bot's slots."""

    __tablename__ = "health_record"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    allergies: Mapped[str] = mapped_column(Text, default="")
    medication: Mapped[str] = mapped_column(Text, default="")
    glasses: Mapped[bool] = mapped_column(Boolean, default=False)
    emergency_contact_name: Mapped[str] = mapped_column(String(120), default="")
    emergency_contact_phone: Mapped[str] = mapped_column(String(20), default="")
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)

    person: Mapped[Person] = relationship(back_populates="health")


# --------------------------------------------------------------------------- catalog


class Season(Base):
    __tablename__ = "season"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    year: Mapped[int] = mapped_column(Integer)  # ages are computed at 30 September of it
    residents_open_at: Mapped[datetime] = mapped_column(DateTime)
    nonresidents_open_at: Mapped[datetime] = mapped_column(DateTime)
    closes_at: Mapped[datetime] = mapped_column(DateTime)
    payment_mode: Mapped[PaymentMode] = mapped_column(stored_enum(PaymentMode))


class Site(Base):
    __tablename__ = "site"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    address: Mapped[str] = mapped_column(String(200), default="")


class Program(Base):
    __tablename__ = "program"

    id: Mapped[int] = mapped_column(primary_key=True)
    season_id: Mapped[int] = mapped_column(ForeignKey("season.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    category: Mapped[Category] = mapped_column(stored_enum(Category))
    description: Mapped[str] = mapped_column(Text, default="")
    needs_tshirt: Mapped[bool] = mapped_column(Boolean, default=False)

    season: Mapped[Season] = relationship()
    groups: Mapped[list[Group]] = relationship(back_populates="program", order_by="Group.id")


class Group(Base):
    """An age group at a site (camp), a level (swimming) or a division (soccer U8)."""

    __tablename__ = "activity_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    label: Mapped[str] = mapped_column(String(80))  # "7-8 ans", "Niveau 3", "U8"
    level: Mapped[int | None] = mapped_column(Integer)
    min_age: Mapped[int] = mapped_column(Integer)  # inclusive, at 30 September
    max_age: Mapped[int] = mapped_column(Integer)  # inclusive

    program: Mapped[Program] = relationship(back_populates="groups")
    site: Mapped[Site | None] = relationship()
    sessions: Mapped[list[Session]] = relationship(
        back_populates="group", order_by="Session.number"
    )


class CapacityPool(Base):
    """A number of places and how many are taken (held, offered or confirmed)."""

    __tablename__ = "capacity_pool"
    __table_args__ = (
        CheckConstraint("taken >= 0 AND taken <= capacity", name="pool_taken_within_capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    capacity: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)


class Session(Base):
    """What a place is sold for: one camp week, or a whole swimming/soccer term."""

    __tablename__ = "session"
    __table_args__ = (UniqueConstraint("group_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("activity_group.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # semaine 1..8; 1 for a term
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    meets: Mapped[str] = mapped_column(String(120), default="")  # "8 samedis, 9 h"
    # The schedule the overlap rule reads (backend.domain.overlap): ISO weekdays ("12345",
    # "6") and the daily hours; NULL means every day / the whole day.
    meets_weekdays: Mapped[str | None] = mapped_column(String(7))
    meets_from: Mapped[time | None] = mapped_column(Time)
    meets_until: Mapped[time | None] = mapped_column(Time)
    pool_id: Mapped[int] = mapped_column(ForeignKey("capacity_pool.id"), unique=True)
    price_resident_cents: Mapped[int] = mapped_column(Integer)
    price_nonresident_cents: Mapped[int] = mapped_column(Integer)

    group: Mapped[Group] = relationship(back_populates="sessions")
    pool: Mapped[CapacityPool] = relationship()
    options: Mapped[list[SessionOption]] = relationship(back_populates="session")


class SessionOption(Base):
    """An option sold with a session: service de garde (its own pool per group-week) or
    transport à vélo (one pool shared by every group of a site for that week)."""

    __tablename__ = "session_option"
    __table_args__ = (UniqueConstraint("session_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))  # "garde", "velo"
    price_cents: Mapped[int] = mapped_column(Integer)
    pool_id: Mapped[int] = mapped_column(ForeignKey("capacity_pool.id"))

    session: Mapped[Session] = relationship(back_populates="options")
    pool: Mapped[CapacityPool] = relationship()


# --------------------------------------------------------------------------- carts and lines


class Cart(Base):
    __tablename__ = "cart"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id"), index=True)
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    family: Mapped[Family] = relationship()
    lines: Mapped[list[Line]] = relationship(back_populates="cart", order_by="Line.id")


class Line(Base):
    """One child in one session: a hold, a waitlist entry, an offer or a registration."""

    __tablename__ = "line"
    __table_args__ = (
        Index("ix_line_waitlist", "session_id", "status", "waitlisted_at", "id"),
        Index("ix_line_hold_expiry", "status", "hold_expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("cart.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id"))
    status: Mapped[LineStatus] = mapped_column(stored_enum(LineStatus))
    # Prices are copied when the line is created: what the parent was shown is what is billed.
    base_price_cents: Mapped[int] = mapped_column(Integer)
    tshirt_size: Mapped[str | None] = mapped_column(String(4))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    hold_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    waitlisted_at: Mapped[datetime | None] = mapped_column(DateTime)
    offered_at: Mapped[datetime | None] = mapped_column(DateTime)
    offer_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)

    cart: Mapped[Cart] = relationship(back_populates="lines")
    person: Mapped[Person] = relationship()
    session: Mapped[Session] = relationship()
    options: Mapped[list[LineOption]] = relationship(
        back_populates="line", cascade="all, delete-orphan"
    )


class LineOption(Base):
    __tablename__ = "line_option"
    __table_args__ = (UniqueConstraint("line_id", "session_option_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("line.id"), index=True)
    session_option_id: Mapped[int] = mapped_column(ForeignKey("session_option.id"))
    price_cents: Mapped[int] = mapped_column(Integer)
    # False while the line waits on the waitlist: the option's place is taken at offer time.
    holds_place: Mapped[bool] = mapped_column(Boolean, default=True)

    line: Mapped[Line] = relationship(back_populates="options")
    session_option: Mapped[SessionOption] = relationship()


# --------------------------------------------------------------------------- orders and payments


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id"), index=True)
    status: Mapped[OrderStatus] = mapped_column(stored_enum(OrderStatus))
    total_cents: Mapped[int] = mapped_column(Integer)
    installment_count: Mapped[int] = mapped_column(Integer)
    terms_accepted_at: Mapped[datetime] = mapped_column(DateTime)
    card_on_file_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    # Short random token in the payment link (/p/<token>); the link is also HMAC-signed.
    pay_token: Mapped[str] = mapped_column(String(32), unique=True)
    pay_link_expires_at: Mapped[datetime] = mapped_column(DateTime)
    gateway_session_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The provider's customer and the card-setup session of the current payment link.
    gateway_customer_id: Mapped[str | None] = mapped_column(String(64))
    card_setup_id: Mapped[str | None] = mapped_column(String(64))
    # The provider's saved payment method (never a card number), kept only with consent.
    card_token: Mapped[str | None] = mapped_column(String(64))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    lines: Mapped[list[Line]] = relationship(order_by="Line.id")
    installments: Mapped[list[Installment]] = relationship(
        back_populates="order", order_by="Installment.seq", cascade="all, delete-orphan"
    )


class Installment(Base):
    __tablename__ = "installment"
    __table_args__ = (UniqueConstraint("order_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2
    due_on: Mapped[date] = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column(Integer)
    status: Mapped[InstallmentStatus] = mapped_column(stored_enum(InstallmentStatus))
    charge_id: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The gateway checkout session that pays this installment (the first one at checkout, a
    # later one after a declined saved-card charge): a webhook pays exactly that installment.
    gateway_session_id: Mapped[str | None] = mapped_column(String(64), index=True)

    order: Mapped[Order] = relationship(back_populates="installments")


class Refund(Base):
    """Money given back through the gateway: one row per refunded charge part, with why.

    `reason`: "cancellation" (staff cancelled a paid line: `line_id` is set), "late_payment"
    (the places were gone when the payment arrived), "amount_mismatch" (a checkout paid an
    amount other than the installment's), "duplicate_payment" (a second charge for an
    installment already paid). The ledger behind the order's `refunded_cents`: a row is
    written (pending) before the provider is asked, so no money goes out without one."""

    __tablename__ = "refund"
    __table_args__ = (UniqueConstraint("installment_id", "line_id", "reason"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    installment_id: Mapped[int | None] = mapped_column(ForeignKey("installment.id"))
    line_id: Mapped[int | None] = mapped_column(ForeignKey("line.id"))
    charge_id: Mapped[str] = mapped_column(String(64))
    amount_cents: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(30))
    gateway_refund_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # Recorded and committed before the provider is asked (`backend.services.refund_sender`).
    status: Mapped[RefundStatus] = mapped_column(
        stored_enum(RefundStatus), default=RefundStatus.PENDING, index=True
    )
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    tries: Mapped[int] = mapped_column(Integer, default=0)  # times the provider was asked
    failure_code: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)


class GatewayEvent(Base):
    """Every webhook event id seen once: replays and retries change nothing."""

    __tablename__ = "gateway_event"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(DateTime)


class Allocation(Base):
    """What one captured installment paid for one line, recorded at capture
    (`backend.domain.allocation`); refunds of a cancelled line follow it."""

    __tablename__ = "payment_allocation"
    __table_args__ = (
        UniqueConstraint("installment_id", "line_id"),
        CheckConstraint("amount_cents >= 0", name="allocation_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    installment_id: Mapped[int] = mapped_column(ForeignKey("installment.id"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("line.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)
