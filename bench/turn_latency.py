"""Turn latency through Rasa's REST channel: our bot (actions calling the backend) next to a
plain Rasa bot (same NLU pipeline, answers from responses only), measured in the same run.

Each of our conversations is a whole registration (identification with a one-time code, child,
camp week, options, terms, payment link) by a family of its own, so no conversation runs into
another's full week. The baseline sends the same number of turns.

    .venv/bin/python bench/turn_latency.py [--conversations 24] [--concurrency 1 8]
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from stack import Ports, Stack, _answers, free_port, running  # noqa: E402

from backend.adapters.demo_clock import OffsetClock  # noqa: E402
from backend.db.engine import make_engine, make_session_factory, transaction  # noqa: E402
from backend.db.models import AccountStatus, Family, Person  # noqa: E402
from backend.demo import migrate, seed_demo  # noqa: E402
from tests.e2e.conversation import Parent, converse  # noqa: E402

BOT_BIN = ROOT / ".venv-bot" / "bin"
BASELINE = ROOT / "bench" / "baseline"
SITES = ("parc des Érables", "parc de la Rivière")


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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=24)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    args = parser.parse_args()
    work = ROOT / "var" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    subprocess.run(["scripts/model.sh"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    base_model = baseline_model()

    db_file = work / f"turns-{uuid.uuid4().hex[:6]}.db"
    url = f"sqlite:///{db_file}"
    total = args.conversations * len(args.concurrency)
    families = seed_families(url, total)
    stack = Stack(ports=Ports.free(), env={"DEMO_MODE": "1", "DATABASE_URL": url,
                                           "LOG_LEVEL": "WARNING"},
                  log_dir=work / "log")
    base_port = free_port()
    (work / "log").mkdir(exist_ok=True)
    base_log = open(work / "log" / "baseline.log", "ab")  # noqa: SIM115
    with running(stack, timeout=300):
        baseline = subprocess.Popen(
            [str(BOT_BIN / "rasa"), "run", "--model", str(base_model), "--port", str(base_port),
             "--interface", "127.0.0.1", "--enable-api"],
            cwd=BASELINE, stdout=base_log, stderr=subprocess.STDOUT,
            env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
        )
        try:
            base_url = f"http://127.0.0.1:{base_port}"
            deadline = time.monotonic() + 300
            while not _answers(f"{base_url}/status"):
                if time.monotonic() > deadline or baseline.poll() is not None:
                    raise RuntimeError("baseline Rasa did not start (var/bench/log/baseline.log)")
                time.sleep(0.5)
            # One warm-up turn each: TensorFlow traces its graphs on the first prediction.
            baseline_conversation(base_url, 1)
            urllib.request.urlopen(f"{stack.backend_url}/health").read()
            rows = []
            offset = 0
            for concurrency in args.concurrency:
                batch = families[offset:offset + args.conversations]
                ours: list[float] = []
                turns_per_conversation: list[int] = []
                jobs = [(offset + i, client, phone) for i, (client, phone) in enumerate(batch)]
                with ThreadPoolExecutor(concurrency) as pool:
                    for latencies in pool.map(lambda job: registration(stack, *job), jobs):
                        ours.extend(latencies)
                        turns_per_conversation.append(len(latencies))
                offset += args.conversations
                theirs: list[float] = []
                with ThreadPoolExecutor(concurrency) as pool:
                    for latencies in pool.map(lambda n: baseline_conversation(base_url, n),
                                              turns_per_conversation):
                        theirs.extend(latencies)
                rows.append((concurrency, ours, theirs))
        finally:
            baseline.terminate()
            baseline.wait(timeout=30)
    db_file.unlink(missing_ok=True)

    print(f"\n{args.conversations} conversations per row; ours: a whole registration each "
          "(identification to payment link)\n")
    print("| concurrent conversations | bot | turns | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|---|")
    for concurrency, ours, theirs in rows:
        for name, data in (("ours (actions + backend)", ours), ("plain Rasa baseline", theirs)):
            print(f"| {concurrency} | {name} | {len(data)} | {percentile(data, 50):.0f} "
                  f"| {percentile(data, 95):.0f} | {percentile(data, 99):.0f} | {max(data):.0f} |")
    for concurrency, ours, theirs in rows:
        print(f"\n{concurrency} concurrent: p50 ratio ours/baseline "
              f"{percentile(ours, 50) / percentile(theirs, 50):.1f}, p95 ratio "
              f"{percentile(ours, 95) / percentile(theirs, 95):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
