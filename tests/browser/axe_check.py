"""axe-core (from the axe-playwright-python package, which ships axe.min.js) run in a page.

Only the engine comes from that package; the rules run are WCAG 2.1 A and AA. The script is
evaluated through the DevTools protocol, which the pages' Content-Security-Policy does not govern.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@lru_cache(maxsize=1)
def axe_source() -> str:
    import axe_playwright_python

    return Path(axe_playwright_python.__file__).with_name("axe.min.js").read_text(encoding="utf-8")


def violations(page: Any) -> list[dict[str, Any]]:
    """axe's WCAG 2.1 AA violations on the page as it is now: rule, impact, the nodes' targets."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    found = page.evaluate(
        """(tags) => axe.run(document, {runOnly: {type: "tag", values: tags},
                                        resultTypes: ["violations"]})
              .then((r) => r.violations.map((v) => ({
                  id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.map((n) => ({target: n.target, summary: n.failureSummary}))
              })))""",
        WCAG_21_AA,
    )
    return list(found)


def rules_run(page: Any) -> int:
    """How many rules axe ran with those tags (a check that checked nothing would be 0)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    return int(
        page.evaluate(
            """(tags) => axe.getRules(tags).length""",
            WCAG_21_AA,
        )
    )
