"""Turn latency and throughput through Rasa's REST channel: our bot (actions calling the backend)
next to a plain Rasa bot (same NLU pipeline, answers from responses only), measured in the same run.

Each of our conversations is a whole registration (identification with a one-time code, child,
camp week, options, terms, payment link) by a family of its own, so no conversation runs into
another's full week. The baseline sends the same number of turns.

Both sides run as production does: the same bot/endpoints-several-processes.yml, so the PostgreSQL
tracker store (a database of its own per side) and the Redis lock store (a database number of
its own per side), with the same number of Rasa processes (behind scripts/balancer.py when more
than one). The backend's database is PostgreSQL too, unless `--backend-db sqlite`. The CPU time
of every process (Rasa, action server, backend, PostgreSQL's server processes) is read from /proc
before and after each phase and printed per turn. Each row's conversations run in rounds (three
by default), ours then the baseline's, so that the load of a shared machine falls on both sides
alike. The last line is the throughput ratio.

    .venv/bin/python bench/turn_latency.py [--conversations 24] [--concurrency 1 8] [--rounds 3]
                                           [--rasa-processes 1] [--backend-db postgresql]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from baseline_bot import ADMIN_URL, BaselineBot, databases, postgres_url  # noqa: E402
from process_cpu import PostgresCpu, group_cpu, spent  # noqa: E402
from stack import Ports, SharedStores, Stack, running  # noqa: E402

from backend.adapters.demo_clock import OffsetClock  # noqa: E402
from backend.db.engine import make_engine, make_session_factory, transaction  # noqa: E402
from backend.db.models import AccountStatus, Family, Person  # noqa: E402
from backend.demo import migrate, seed_demo  # noqa: E402
from tests.e2e.conversation import Parent, converse  # noqa: E402

BOT_BIN = ROOT / ".venv-bot" / "bin"
BASELINE = ROOT / "bench" / "baseline"
SITES = ("parc des Érables", "parc de la Rivière")
# Redis database numbers of the two sides' lock stores (never the default 0 of a running city).
REDIS_DB_OURS, REDIS_DB_BASELINE = 12, 13


@dataclass
class TimedParent(Parent):
    latencies_ms: list[float] = field(default_factory=list)

    def say(self, text: str) -> list[dict[str, object]]:
        started = time.perf_counter()
        replies = super().say(text)
        self.latencies_ms.append((time.perf_counter() - started) * 1000)
        return replies


def percentile(data: list[float], p: float) -> float:
    ordered = sorted(data)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def baseline_model() -> Path:
    """Trains the baseline bot once per input hash (same cache as scripts/model.sh)."""
    digest = hashlib.sha256()
    for path in sorted([ROOT / "config.yml", *BASELINE.rglob("*.yml")]):
        digest.update(path.read_bytes())
    cache = Path(os.environ.get("MODEL_CACHE_DIR",
                                Path.home() / ".cache" / "inscriptions-loisirs" / "models"))
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / f"baseline-{digest.hexdigest()[:16]}.tar.gz"
    if not target.exists():
        with tempfile.TemporaryDirectory() as out:
            subprocess.run(
                [str(BOT_BIN / "rasa"), "train", "--config", str(ROOT / "config.yml"),
                 "--domain", str(BASELINE / "domain.yml"), "--data", str(BASELINE / "data"),
                 "--out", out, "--fixed-model-name", "baseline", "--quiet"],
                check=True, cwd=BASELINE, env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
            )
            Path(out, "baseline.tar.gz").replace(target)
    return target


def seed_families(url: str, count: int) -> list[tuple[str, str]]:
    """The demo city plus `count` approved resident families with one 9-year-old each."""
    migrate(url)
    factory = make_session_factory(make_engine(url))
    clock = OffsetClock.demo()
    with transaction(factory) as db:
        seed_demo(db, clock=clock)
    families: list[tuple[str, str]] = []
    with transaction(factory) as db:
        for n in range(count):
            client, phone = f"8{n:05d}", f"+1873555{n:04d}"
            if db.scalar(select(Family.id).where(Family.client_number == client)) is None:
                family = Family(client_number=client, phone=phone, email=None, address="",
                                resident=True, status=AccountStatus.APPROVED,
                                created_at=clock.now())
                family.members.append(Person(first_name="Zoé", last_name=f"Banc{n}",
                                             birth_date=date(2018, 3, 1), is_adult=False,
                                             tshirt_size="P"))
                db.add(family)
            families.append((client, phone))
    return families


def registration(stack: Stack, index: int, client: str, phone: str) -> list[float]:
    parent = TimedParent(stack.rasa_url, stack.backend_url, sender=f"bench-{uuid.uuid4().hex}")
    site = SITES[index % 2]
    week = index // 2 % 8 + 1
    converse(
        parent,
        f"Bonjour, je voudrais inscrire Zoé au camp de jour au {site}, semaine {week}",
        [
            ("quel est ce code", lambda: parent.latest_code(phone[2:])),
            ("numéro de client", f"{client}, téléphone {phone[2:]}"),
            ("téléphone inscrit", phone[2:]),
            ("modalités de paiement", "j'accepte"),
            ("chandail", "oui"),
            ("service de garde", "non merci"),
            ("transport à vélo", "non merci"),
            ("liste d'attente", "oui"),
            ("autre enfant", "non, je veux payer"),
            ("versement", "1 versement"),
        ],
        done=lambda text: "/p/" in text,
        limit=14,
    )
    return parent.latencies_ms


def baseline_conversation(url: str, turns: int) -> list[float]:
    parent = TimedParent(url, "", sender=f"base-{uuid.uuid4().hex}")
    lines = ["bonjour", "vous etes ouverts quand", "merci"]
    for i in range(turns):
        parent.say(lines[i % len(lines)])
    return parent.latencies_ms


def process_groups(stack: Stack) -> dict[str, list[int]]:
    """Our processes by role, as the CPU table names them."""
    roles: dict[str, list[int]] = {"Rasa": [], "action server": [], "backend": []}
    for name, proc in stack.processes.items():
        if name.startswith("rasa"):
            roles["Rasa"].append(proc.pid)
        elif name == "actions":
            roles["action server"].append(proc.pid)
        elif name == "backend":
            roles["backend"].append(proc.pid)
        elif name == "balancer":
            roles.setdefault("balancer", []).append(proc.pid)
        elif name == "localstripe":
            roles.setdefault("localstripe (Stripe stand-in)", []).append(proc.pid)
    return roles


@dataclass
class Phase:
    """One side's batch at one concurrency: latencies, wall time, CPU seconds by role."""

    latencies: list[float]
    wall: float
    cpu: dict[str, float]

    def plus(self, other: Phase) -> Phase:
        cpu = {role: self.cpu.get(role, 0.0) + other.cpu.get(role, 0.0)
               for role in {*self.cpu, *other.cpu}}
        return Phase(self.latencies + other.latencies, self.wall + other.wall, cpu)

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.wall

    def cpu_ms_per_turn(self, role: str) -> float:
        return self.cpu.get(role, 0.0) * 1000 / len(self.latencies)


def measured(
    groups: dict[str, list[int]], pg: PostgresCpu, run: Callable[[], list[float]]
) -> Phase:
    before = {role: sum(group_cpu(pid) for pid in pids) for role, pids in groups.items()}
    pg_before = pg.snapshot()
    started = time.perf_counter()
    latencies = run()
    wall = time.perf_counter() - started
    cpu = {role: sum(group_cpu(pid) for pid in pids) - before[role]
           for role, pids in groups.items()}
    cpu["PostgreSQL"] = spent(pg_before, pg.snapshot())
    return Phase(latencies, wall, cpu)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=24)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--rasa-processes", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3,
                        help="each row's conversations in this many rounds, ours and the "
                             "baseline alternating")
    parser.add_argument("--backend-db", choices=["postgresql", "sqlite"], default="postgresql")
    args = parser.parse_args()
    work = ROOT / "var" / "bench"
    (work / "log").mkdir(parents=True, exist_ok=True)
    subprocess.run(["scripts/model.sh"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    base_model = baseline_model()

    run_id = uuid.uuid4().hex[:8]
    ours_tracker, base_tracker, app_db = (f"bench_{run_id}_{n}" for n in ("ours", "base", "app"))
    db_file = work / f"turns-{run_id}.db"
    url = postgres_url(app_db) if args.backend_db == "postgresql" else f"sqlite:///{db_file}"
    total = args.conversations * len(args.concurrency)
    rows: list[tuple[int, Phase, Phase]] = []
    with databases([ours_tracker, base_tracker, app_db]):
        families = seed_families(url, total)
        stack = Stack(ports=Ports.free(), env={"DEMO_MODE": "1", "DATABASE_URL": url,
                                               "LOG_LEVEL": "WARNING"},
                      log_dir=work / "log", rasa_processes=args.rasa_processes,
                      shared=SharedStores(tracker_db_name=ours_tracker,
                                          redis_lock_db=REDIS_DB_OURS))
        baseline = BaselineBot(base_model, args.rasa_processes,
                               SharedStores(tracker_db_name=base_tracker,
                                            redis_lock_db=REDIS_DB_BASELINE), work / "log")
        with running(stack, timeout=600):
            baseline.start()
            try:
                # One warm-up turn each: TensorFlow traces its graphs on the first prediction.
                baseline_conversation(baseline.url, 1)
                urllib.request.urlopen(f"{stack.backend_url}/health").read()
                ours_groups = process_groups(stack)
                base_groups = {"Rasa": [c.pid for n, c in baseline.children.items()
                                        if "balancer" not in n],
                               "balancer": [c.pid for n, c in baseline.children.items()
                                            if "balancer" in n]}
                offset = 0
                dbs = [ours_tracker] + ([app_db] if args.backend_db == "postgresql" else [])
                for concurrency in args.concurrency:
                    batch = families[offset:offset + args.conversations]
                    jobs = [(offset + i, client, phone) for i, (client, phone) in enumerate(batch)]
                    offset += args.conversations
                    ours, theirs = Phase([], 0.0, {}), Phase([], 0.0, {})
                    # Round after round, ours then the baseline with the same turns: the
                    # machine's load (shared cores) then falls on both sides alike.
                    size = -(-len(jobs) // args.rounds)
                    for start in range(0, len(jobs), size):
                        chunk = jobs[start:start + size]
                        per_conversation: list[int] = []

                        def ours_run(chunk: list[tuple[int, str, str]] = chunk,
                                     concurrency: int = concurrency,
                                     per_conversation: list[int] = per_conversation,
                                     ) -> list[float]:
                            out: list[float] = []
                            with ThreadPoolExecutor(concurrency) as pool:
                                for latencies in pool.map(lambda job: registration(stack, *job),
                                                          chunk):
                                    out.extend(latencies)
                                    per_conversation.append(len(latencies))
                            return out

                        def base_run(concurrency: int = concurrency,
                                     per_conversation: list[int] = per_conversation,
                                     ) -> list[float]:
                            out: list[float] = []
                            with ThreadPoolExecutor(concurrency) as pool:
                                for latencies in pool.map(
                                        lambda n: baseline_conversation(baseline.url, n),
                                        per_conversation):
                                    out.extend(latencies)
                            return out

                        with PostgresCpu(ADMIN_URL, dbs) as pg:
                            ours = ours.plus(measured(ours_groups, pg, ours_run))
                        with PostgresCpu(ADMIN_URL, [base_tracker]) as pg:
                            theirs = theirs.plus(measured(base_groups, pg, base_run))
                    rows.append((concurrency, ours, theirs))
            finally:
                baseline.stop()
    db_file.unlink(missing_ok=True)
    report(args, rows)
    return 0


def report(args: argparse.Namespace, rows: list[tuple[int, Phase, Phase]]) -> None:
    print(f"\n{args.conversations} conversations per row; ours: a whole registration each "
          f"(identification to payment link); {args.rasa_processes} Rasa process(es) a side; "
          f"backend on {args.backend_db}\n")
    print("| concurrent conversations | bot | turns | p50 ms | p95 ms | p99 ms | max ms "
          "| turns/s |")
    print("|---|---|---|---|---|---|---|---|")
    for concurrency, ours, theirs in rows:
        for name, phase in (("ours (actions + backend)", ours), ("plain Rasa baseline", theirs)):
            data = phase.latencies
            print(f"| {concurrency} | {name} | {len(data)} | {percentile(data, 50):.0f} "
                  f"| {percentile(data, 95):.0f} | {percentile(data, 99):.0f} | {max(data):.0f} "
                  f"| {phase.throughput:.1f} |")
    print("\nCPU-milliseconds per turn, by process\n")
    roles = ["Rasa", "action server", "backend", "PostgreSQL", "balancer",
             "localstripe (Stripe stand-in)"]
    print("| concurrent conversations | bot | " + " | ".join(roles) + " | total |")
    print("|---|---|" + "---|" * (len(roles) + 1))
    for concurrency, ours, theirs in rows:
        for name, phase in (("ours", ours), ("baseline", theirs)):
            cells = [phase.cpu_ms_per_turn(role) for role in roles]
            print(f"| {concurrency} | {name} | " + " | ".join(f"{c:.1f}" for c in cells)
                  + f" | {sum(cells):.1f} |")
    for concurrency, ours, theirs in rows:
        print(f"\n{concurrency} concurrent: p50 ratio ours/baseline "
              f"{percentile(ours.latencies, 50) / percentile(theirs.latencies, 50):.1f}, p95 ratio "
              f"{percentile(ours.latencies, 95) / percentile(theirs.latencies, 95):.1f}, "
              f"throughput ratio {ours.throughput / theirs.throughput:.2f}")
    concurrency, ours, theirs = next((r for r in rows if r[0] == 8), rows[-1])
    print(f"throughput ratio ours/baseline at {concurrency} conversations: "
          f"{ours.throughput / theirs.throughput:.2f}")


if __name__ == "__main__":
    sys.exit(main())
