"""axe-core (vendored from npm in ``tests/support/axe``) injected into a page the browser tests
have open: the violations it finds, by impact. The QA app's pages must have no critical and no
serious one."""

from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).resolve().parent / "axe" / "axe.min.js"
BLOCKING = ("critical", "serious")

_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ["violations"]}).then(
  (r) => done(r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" "))}))),
  (e) => done([{id: "axe-error", impact: "critical", help: String(e), nodes: []}]));
"""


def violations(driver, impacts: tuple[str, ...] = BLOCKING) -> list[dict]:
    """The page's axe-core violations of the given impacts (critical and serious by default)."""
    if not driver.execute_script("return typeof window.axe !== 'undefined'"):
        driver.execute_script(AXE.read_text(encoding="utf-8"))
    driver.set_script_timeout(60)
    found = driver.execute_async_script(_RUN)
    return [v for v in found if v["impact"] in impacts]
