"""The fault table: one row per fault, printed at the end of the session and
written to var/faults/."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tests.faults.checks import FaultResult
from tests.faults.load import LoadPlan

ROOT = Path(__file__).resolve().parents[2]
REPORT_DIR = ROOT / "var" / "faults"

COLUMNS = (
    "fault",
    "acked",
    "present",
    "second credentials",
    "index collisions",
    "reusable entries",
    "revocations acked",
    "lost revocations",
    "wrongly revoked",
    "unanswered",
    "slowest ack s",
    "recovery s",
    "result",
)


@dataclass
class Session:
    mode: str = ""
    plan: LoadPlan | None = None
    seed: int = 0
    results: list[FaultResult] = field(default_factory=list)


SESSION = Session()


def _row(result: FaultResult) -> list[str]:
    recovery = "-" if result.recovery is None else f"{result.recovery:.1f}"
    if result.recovery is None and any(p.startswith("recovery") for p in result.problems):
        recovery = "never"
    return [
        result.fault,
        str(result.acked),
        str(result.present),
        str(result.second_credentials),
        str(result.index_collisions),
        str(result.reusable_entries),
        str(result.revocations_acked),
        str(result.lost_revocations),
        str(result.wrongly_revoked),
        str(result.unanswered),
        "-" if result.slowest_ack is None else f"{result.slowest_ack:.1f}",
        recovery,
        "pass" if result.passed else "FAIL",
    ]


def table(results: list[FaultResult]) -> str:
    """A Markdown table (aligned, so it reads well in a terminal too)."""
    rows = [list(COLUMNS)] + [_row(result) for result in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(rows[0]), rule, *(line(row) for row in rows[1:])])


def render(session: Session) -> str:
    plan = session.plan
    load = (
        f"{plan.awards} awards, {plan.concurrency} concurrent, every {plan.revoke_every}th "
        f"acknowledged award revoked"
        if plan
        else "?"
    )
    lines = [
        f"# Fault suite ({session.mode} mode)",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} "
        f"({os.cpu_count()} CPUs); load: {load}; seed {session.seed} "
        f"(MICROCRED_FAULTS_SEED)",
        "",
        table(session.results),
        "",
    ]
    for result in session.results:
        timing = (
            f"fault at {result.fault_at:.1f} s into the load"
            if result.fault_at is not None
            else "fault never injected"
        )
        if result.restart_done_after is not None:
            timing += f", its restart done after {result.restart_done_after:.1f} s"
        if result.load_seconds is not None:
            timing += f", load took {result.load_seconds:.1f} s"
        timing += f"; retried: {result.retried}"
        lines.append(f"- **{result.fault}** ({'pass' if result.passed else 'FAIL'}): {timing}.")
        lines += [f"  - {problem}" for problem in result.problems]
        if result.logs:
            lines.append(f"  - logs kept in {result.logs}")
    return "\n".join(lines) + "\n"


def write(session: Session) -> Path:
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    path = REPORT_DIR / ("report.md" if session.mode == "full" else f"report-{session.mode}.md")
    path.write_text(render(session))
    return path
