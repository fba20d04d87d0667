"""The live facts a turn needs, read from the backend: the family file and the catalog.

Turns the JSON into the small structures parsing.py matches against (children, weeks,
programs, sites) and answers the questions the registration form asks (which groups a child
may join, which weeks a group has, what is still available).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from .backend_client import backend
from .parsing import Child, Named, Week, category_aliases, site_words


@dataclass
class Context:
    family: dict[str, Any]
    catalog: dict[str, Any]

    # ---------------------------------------------------------------- family
    @property
    def children(self) -> list[Child]:
        return [
            Child(c["id"], c["first_name"], date.fromisoformat(c["birth_date"]))
            for c in self.family.get("children", [])
        ]

    def child(self, child_id: int) -> dict[str, Any]:
        return next(c for c in self.family["children"] if int(c["id"]) == int(child_id))

    def child_names(self, ids: list[int]) -> list[str]:
        return [self.child(i)["first_name"] for i in ids]

    @property
    def resident(self) -> bool:
        return bool(self.family.get("resident", True))

    # ---------------------------------------------------------------- catalog
    @property
    def programs(self) -> list[dict[str, Any]]:
        return list(self.catalog.get("programs", []))

    def program(self, program_id: int) -> dict[str, Any]:
        return next(p for p in self.programs if int(p["id"]) == int(program_id))

    def program_names(self) -> list[Named]:
        return [
            Named(p["id"], p["name"], category_aliases(p.get("category", ""), p["name"]))
            for p in self.programs
        ]

    def site_names(self, program_id: int | None = None) -> list[Named]:
        sites = self.catalog.get("sites", [])
        if program_id is not None:
            used = {g["site_id"] for g in self.program(program_id)["groups"]}
            sites = [s for s in sites if s["id"] in used]
        return [Named(s["id"], s["name"], site_words(s["name"])) for s in sites]

    def reference_date(self) -> str:
        return str(self.catalog.get("season", {}).get("reference_date", ""))

    def age(self, child_id: int) -> int:
        return int(self.child(child_id)["age_at_reference"])

    def eligible_groups(self, program_id: int, child_id: int) -> list[dict[str, Any]]:
        age = self.age(child_id)
        return [
            g for g in self.program(program_id)["groups"] if g["min_age"] <= age <= g["max_age"]
        ]

    def eligible_programs(self, child_ids: list[int]) -> list[dict[str, Any]]:
        return [
            p for p in self.programs if all(self.eligible_groups(p["id"], c) for c in child_ids)
        ]

    def program_age_span(self, program_id: int) -> tuple[int, int]:
        groups = self.program(program_id)["groups"]
        return min(g["min_age"] for g in groups), max(g["max_age"] for g in groups)

    def group(self, group_id: int) -> dict[str, Any]:
        for prog in self.programs:
            for g in prog["groups"]:
                if int(g["id"]) == int(group_id):
                    return g
        raise KeyError(group_id)

    def program_of_group(self, group_id: int) -> dict[str, Any]:
        return next(
            p for p in self.programs if any(int(g["id"]) == int(group_id) for g in p["groups"])
        )

    def weeks_of_group(self, group_id: int) -> list[Week]:
        return [
            Week(s["number"], date.fromisoformat(s["starts_on"]), date.fromisoformat(s["ends_on"]))
            for s in sorted(self.group(group_id)["sessions"], key=lambda s: s["number"])
        ]

    def weeks_of_program(self, program_id: int | None) -> list[Week]:
        """Every session number of a program (or of the day camp when none is chosen yet)."""
        programs = (
            [self.program(program_id)]
            if program_id is not None
            else [p for p in self.programs if p.get("category") == "camp_de_jour"] or self.programs
        )
        seen: dict[int, Week] = {}
        for prog in programs:
            for g in prog["groups"]:
                for w in self.weeks_of_group(g["id"]):
                    seen.setdefault(w.number, w)
        return [seen[n] for n in sorted(seen)]

    def session(self, group_id: int, number: int) -> dict[str, Any] | None:
        return next(
            (s for s in self.group(group_id)["sessions"] if int(s["number"]) == int(number)), None
        )

    def option_codes(self, group_id: int) -> set[str]:
        return {o["code"] for s in self.group(group_id)["sessions"] for o in s.get("options", [])}

    def option_price(self, code: str) -> int | None:
        for prog in self.programs:
            for g in prog["groups"]:
                for s in g["sessions"]:
                    for o in s.get("options", []):
                        if o["code"] == code:
                            return int(o["price_cents"])
        return None


async def load(token: str, fresh_catalog: bool = False) -> Context:
    if fresh_catalog:
        backend.forget(token)
    family = await backend.family(token)
    catalog = await backend.catalog(token)
    return Context(family=family, catalog=catalog)
