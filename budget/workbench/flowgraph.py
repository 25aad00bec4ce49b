"""The routing flow as a Graphviz DOT diagram: phases, tiers, the three exits with a run's counts.

The chapter's tip for visual learners: draw the six phases with the tiers and
the three exits (expensive tier, degraded queue, manual channel), and mark
where the SLA thresholds apply and where the token_health guard sits. The
figures on the edges are the run's own (a simulate result); nothing is
computed here.
"""

from __future__ import annotations

from typing import Any

from budget.keeper import health_text, manual_key
from budget.model import BudgetSpec

_RECORD_SPECIAL = set("{}|<>")


def _plain(text: str) -> str:
    """Control characters (but line breaks, which become LF) as spaces."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch if ch == "\n" or (ord(ch) >= 32 and ord(ch) != 0x7F) else " " for ch in text)


def _literal(body: str) -> str:
    """``body`` (its quotes already escaped) as a DOT string; Graphviz's lexer reads a backslash before the
    closing quote as an escaped quote, so a body ending in one gets a trailing space."""
    return '"' + body + (" " if body.endswith("\\") else "") + '"'


def _q(text: str) -> str:
    """A DOT string literal for any text: a backslash, a quote or a line break never ends or escapes it.

    Graphviz reads escapes such as ``\\N`` or ``\\l`` in labels, so every backslash is doubled; a line break
    (CR, LF, CRLF) becomes a centred ``\\n``; other control characters become spaces.
    """
    return _literal(_plain(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n"))


def _field(text: str) -> str:
    """One field of a record label: backslashes doubled, the record's own ``{ } | < >`` escaped."""
    text = _plain(text).replace("\\", "\\\\")
    return "".join("\\" + ch if ch in _RECORD_SPECIAL else ch for ch in text).replace("\n", "\\n")


def _record(fields: list[str]) -> str:
    """A record label of ``fields`` (each from :func:`_field`): only the quotes are escaped at the DOT level."""
    return _literal("|".join(fields).replace('"', '\\"'))


def _failover_rule(spec: BudgetSpec) -> str:
    """Who may fail over to which tier: ``P0/P1`` on two tiers, per tier on more."""
    policy = spec.policy
    upper = spec.tiers[1:]
    if len(upper) <= 1:
        return "/".join(policy.failover_severities)
    return ", ".join(
        "/".join(policy.failover_severities if t == spec.most_expensive else policy.mid_failover_severities)
        + f" -> {t}"
        for t in upper
    )


def _failover_edges(spec: BudgetSpec, result: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(tier, label) of the failover exit: one edge per tier that took failover (the run's counts)."""
    if not result:
        policy = spec.policy
        return [
            (
                t,
                "exit 1: "
                + "/".join(policy.failover_severities if t == spec.most_expensive else policy.mid_failover_severities)
                + " tasks",
            )
            for t in spec.tiers[1:]
        ]
    by_tier = result.get("failover_by_tier")
    if not isinstance(by_tier, dict) or len(by_tier) <= 1:
        target = result.get("failover_tier", spec.most_expensive)
        return [(target, f"exit 1: {result['failover_to_frontier']} tasks")]
    took = [(t, n) for t, n in by_tier.items() if n]
    if not took:
        return [(spec.most_expensive, "exit 1: 0 tasks")]
    return [(t, f"exit 1: {n} tasks to {t}") for t, n in took]


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
    fields = ["SDD phases"] + [_field(f"{name}\nSLA p95 {p.sla_p95 or '-'}") for name, p in spec.phases.items()]
    lines.append(f'  phases [shape=record, style="filled", fillcolor="#f7f7ff", label={_record(fields)}];')
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
        lines.append(f'  {_q(tier)} [fillcolor="{fill}", label={_q(text)}];')
        lines.append(f'  phases -> {_q(tier)} [color="#999999"];')
    keeper = (
        f"budget keeper (every minute)\nranked failover: {_failover_rule(spec)}, "
        f"age > {policy.failover_min_age_sec:g} s\n"
        f"guard: token_health >= {policy.alert_threshold:.2f}"
    )
    lines.append(f'  keeper [shape=diamond, fillcolor="#fff5d6", label={_q(keeper)}];')
    source = down or spec.cheapest
    lines.append(f"  {_q(source)} -> keeper [label={_q('down: tasks wait')}, style=dashed];")
    lines.append(f'  degraded [fillcolor="#fff0e0", label={_q("degraded queue")}];')
    timeout = result["manual_timeout_sec"] if result else None
    manual_text = "manual channel\n(proof protocol kept)"
    lines.append(f'  manual [fillcolor="#eef7ee", label={_q(manual_text)}];')
    sla = ", ".join(f"{s} {policy.sla_resolve[s]}" for s in ("P0", "P1"))
    degraded = f"exit 2: {result['degraded_queue']} tasks" if result else "exit 2: the rest"
    if result:
        mk = manual_key(timeout or 0)
        manual = f"exit 3: {result[mk]} tasks after {timeout:g} s\n(manual timeout: the SLA threshold)"
    else:
        manual = "exit 3: after manual_timeout_sec\n(the SLA threshold)"
    for target, failover in _failover_edges(spec, result):
        lines.append(f'  keeper -> {_q(target)} [label={_q(failover)}, color="#d62728", penwidth=2, constraint=false];')
    lines.append(f'  keeper -> degraded [label={_q(degraded)}, color="#ff7f0e", penwidth=2];')
    lines.append(f'  degraded -> manual [label={_q(manual)}, color="#2ca02c", penwidth=2];')
    guard = f"token_health guard {policy.alert_threshold:.2f}\nbelow it: automatic failover blocked"
    if result:
        g = result["guard"]
        guard += f"\nrun: min {health_text(result['token_health_min'])} at {result['token_health_min_at']}"
        guard += f", breached at {g['first_breach']}" if g.get("breached") else ", held"
    lines.append(f'  guard [shape=note, fillcolor="#fff5d6", label={_q(guard)}];')
    lines.append("  guard -> keeper [style=dotted, arrowhead=tee];")
    lines.append(f'  sla [shape=note, fillcolor="#f7f7ff", label={_q("resolve SLA: " + sla)}];')
    lines.append("  sla -> manual [style=dotted, arrowhead=none];")
    lines.append("}")
    return "\n".join(lines) + "\n"
