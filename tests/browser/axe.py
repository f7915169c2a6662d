"""Accessibility checks with axe-core, as installed by npm."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from playwright.async_api import Page

AXE_SCRIPT = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
STANDARDS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


@functools.cache
def _axe_source() -> str:
    return AXE_SCRIPT.read_text(encoding="utf-8")


async def assert_accessible(page: Page) -> None:
    """Fail with every axe-core violation on the current page, described so it can be fixed."""
    # Evaluated through the DevTools protocol rather than added as a <script>: the pages' own
    # Content-Security-Policy rightly refuses a script it did not issue.
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.evaluate(_axe_source())
    results: dict[str, Any] = await page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", STANDARDS
    )
    violations = [
        {**v, "nodes": kept}
        for v in results["violations"]
        if (kept := [node for node in v["nodes"] if not _known_govuk_issue(v["id"], node)])
    ]
    report = "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n    "
        + "\n    ".join(str(node["target"]) for node in v["nodes"])
        for v in violations
    )
    assert not violations, f"axe-core found {len(violations)} violation(s) on {page.url}:\n{report}"


def _known_govuk_issue(rule: str, node: dict[str, Any]) -> bool:
    """GOV.UK Frontend marks a radio that reveals a question with aria-expanded: outside the ARIA
    specification, but kept on purpose because screen readers announce it, and listed as a known
    axe-core finding (alphagov/govuk-frontend#979). Only that attribute on such a radio is let
    through; anything else about the radio still fails."""
    found = [
        str(value)
        for kind in ("any", "all", "none")
        for check in node.get(kind, [])
        for value in (check.get("data") or {}).get("values", [])
    ]
    return (
        rule == "aria-allowed-attr"
        and "govuk-radios__input" in node["html"]
        and 'aria-controls="conditional-' in node["html"]
        and bool(found)
        and all(value.startswith("aria-expanded=") for value in found)
    )
