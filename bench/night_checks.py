"""What a registration-night run must leave behind, read back from the database: no week over
its capacity, each week holding exactly min(free places, requests), every other request
waitlisted, and each waitlist rank an answer gave equal to the line's rank in the database
(waitlisted_at, then id)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from night_seed import Ask, Target, targets
from night_storm import Answer
from sqlalchemy import Engine, text


@dataclass
class Run:
    database: str
    workload: str
    server: str
    answers: list[Answer]
    seconds: float
    exact: bool
    problems: list[str] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return len(self.answers) / self.seconds

    def pct(self, p: float) -> float:
        data = sorted(a.ms for a in self.answers)
        return data[min(len(data) - 1, int(round(p / 100 * (len(data) - 1))))] if data else 0.0

    def row(self) -> str:
        outcome = "yes" if self.exact else "NO: " + "; ".join(self.problems[:3])
        return (f"| {self.database} | {self.workload} | {self.server} | {len(self.answers)} "
                f"| {self.rps:.0f} | {self.pct(50):.0f} | {self.pct(95):.0f} | {outcome} |")


def check(engine: Engine, database: str, workload: str, server: str, asks: list[Ask],
          answers: list[Answer], seconds: float, before: dict[int, Target]) -> Run:
    problems: list[str] = []
    if len(answers) >= len(asks):
        problems.append("the families ran out before the time: raise --families")
    bad = [a for a in answers if a.status != 200]
    if bad:
        problems.append(f"{len(bad)} answers not 200 (first: {bad[0].status})")
    asked: dict[int, list[Answer]] = defaultdict(list)
    for a in answers:
        asked[a.ask.session_id].append(a)
    after = targets(engine, list(asked))
    with engine.connect() as conn:
        for sid, got in asked.items():
            t0, t1 = before[sid], after[sid]
            held = sum(1 for a in got if a.outcome == "held")
            free = t0.capacity - t0.taken_before
            if t1.taken_before > t1.capacity:
                problems.append(f"session {sid} overbooked ({t1.taken_before}/{t1.capacity})")
            if held != min(free, len(got)) or t1.taken_before != t0.taken_before + held:
                problems.append(f"session {sid}: {held} held of {free} free for {len(got)}")
            ranks = {int(r[0]): n for n, r in enumerate(conn.execute(text(
                "SELECT id FROM line WHERE session_id = :s AND status = 'waitlisted'"
                " ORDER BY waitlisted_at, id"), {"s": sid}), 1)}
            waiting = [a for a in got if a.outcome == "waitlisted"]
            if len(waiting) != len(got) - held:
                problems.append(f"session {sid}: {len(got) - held - len(waiting)} neither")
            wrong = [a for a in waiting if ranks.get(a.line_id or 0) != a.position]
            if wrong:
                problems.append(f"session {sid}: {len(wrong)} ranks differ from the database")
    return Run(database, workload, server, answers, seconds, not problems, problems)
