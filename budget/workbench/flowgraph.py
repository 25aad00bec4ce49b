"""The routing flow as a Graphviz DOT diagram: phases, tiers, the three exits with a run's counts.

The chapter's tip for visual learners: draw the six phases with the tiers and
the three exits (expensive tier, degraded queue, manual channel), and mark
where the SLA thresholds apply and where the token_health guard sits. The
figures on the edges are the run's own (a simulate result); nothing is
computed here.
"""

from __future__ import annotations

from typing import Any

from budget.keeper import manual_key
from budget.model import BudgetSpec


def _q(text: str) -> str:
    """A DOT string literal (newlines become centred line breaks)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def pipeline_dot(spec: BudgetSpec, result: dict[str, Any] | None = None) -> str:
    """DOT for the pipeline of ``spec``; with ``result``, the run's outage and counts on the exits."""
    policy = spec.policy
    lines = [
        "digraph pipeline {",
        '  graph [rankdir=TB, fontname="Helvetica", fontsize=11, nodesep=0.3, ranksep=0.35];',
        '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    queue = f"{result['queue']} incidents" if result else "incidents"
    start = f"\nat {result['start']}" if result and result.get("start") else ""
    lines.append(f'  arrivals [shape=oval, fillcolor="#eeeeee", label={_q(queue + start)}];')
    cells = "|".join(
        f"{name}\\nSLA p95 {p.sla_p95 or '-'}" for name, p in spec.phases.items()
    )  # record fields: one per phase
    lines.append(f'  phases [shape=record, style="filled", fillcolor="#f7f7ff", label="SDD phases|{cells}"];')
    lines.append("  arrivals -> phases;")
    down = result.get("down_tier") if result else None
    for tier in spec.tiers:
        total = spec.tier_total(tier)
        role = (
            "cheap tier: routine work"
            if tier == spec.cheapest
            else ("expensive tier: disputed and critical reviews" if tier == spec.most_expensive else "middle tier")
        )
        text = f"{tier}\n{role}\n{total:,} tokens/day"
        fill = "#ffffff"
        if tier == down:
            text += f"\nDOWN {result['duration_min']} min from {result['start']}" if result else ""
            fill = "#fde0dd"
        lines.append(f'  "{tier}" [fillcolor="{fill}", label={_q(text)}];')
        lines.append(f'  phases -> "{tier}" [color="#999999"];')
    severities = "/".join(policy.failover_severities)
    keeper = (
        f"budget keeper (every minute)\nranked failover: {severities}, age > {policy.failover_min_age_sec:g} s\n"
        f"guard: token_health >= {policy.alert_threshold:.2f}"
    )
    lines.append(f'  keeper [shape=diamond, fillcolor="#fff5d6", label={_q(keeper)}];')
    source = down or spec.cheapest
    lines.append(f'  "{source}" -> keeper [label={_q("down: tasks wait")}, style=dashed];')
    lines.append(f'  degraded [fillcolor="#fff0e0", label={_q("degraded queue")}];')
    timeout = result["manual_timeout_sec"] if result else None
    manual_text = "manual channel\n(proof protocol kept)"
    lines.append(f'  manual [fillcolor="#eef7ee", label={_q(manual_text)}];')
    sla = ", ".join(f"{s} {policy.sla_resolve[s]}" for s in ("P0", "P1"))
    failover = f"exit 1: {result['failover_to_frontier']} tasks" if result else "exit 1: P0/P1 tasks"
    degraded = f"exit 2: {result['degraded_queue']} tasks" if result else "exit 2: the rest"
    if result:
        mk = manual_key(timeout or 0)
        manual = f"exit 3: {result[mk]} tasks after {timeout:g} s\n(manual timeout: the SLA threshold)"
    else:
        manual = "exit 3: after manual_timeout_sec\n(the SLA threshold)"
    target = result.get("failover_tier", spec.most_expensive) if result else spec.most_expensive
    lines.append(f'  keeper -> "{target}" [label={_q(failover)}, color="#d62728", penwidth=2, constraint=false];')
    lines.append(f'  keeper -> degraded [label={_q(degraded)}, color="#ff7f0e", penwidth=2];')
    lines.append(f'  degraded -> manual [label={_q(manual)}, color="#2ca02c", penwidth=2];')
    guard = f"token_health guard {policy.alert_threshold:.2f}\nbelow it: automatic failover blocked"
    if result:
        g = result["guard"]
        guard += f"\nrun: min {result['token_health_min']:.2f} at {result['token_health_min_at']}"
        guard += f", breached at {g['first_breach']}" if g.get("breached") else ", held"
    lines.append(f'  guard [shape=note, fillcolor="#fff5d6", label={_q(guard)}];')
    lines.append("  guard -> keeper [style=dotted, arrowhead=tee];")
    lines.append(f'  sla [shape=note, fillcolor="#f7f7ff", label={_q("resolve SLA: " + sla)}];')
    lines.append("  sla -> manual [style=dotted, arrowhead=none];")
    lines.append("}")
    return "\n".join(lines) + "\n"
