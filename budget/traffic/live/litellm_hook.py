"""The live keeper as a LiteLLM proxy callback.

Config: ``litellm_settings.callbacks: budget.traffic.live.litellm_hook.keeper``.

Only the proxy imports this module (it imports litellm and fastapi). Per request, in the pre-call hook:
the caller's routing knobs are removed (``fallbacks``, ``num_retries``, ``api_base``, ...), the keeper
decides (``engine.LiveKeeper.decide``) and either rewrites ``data["model"]`` to the tier it chose or
refuses with HTTP 429, the decision and its reason in the JSON body (``error.provider_specific_fields``)
and in the ``x-budget-decision`` header; a refused request never reaches an upstream. The success and
failure events reconcile the reserved tokens with the usage the upstream reports; an upstream that
fails (5xx, timeout, connection) marks its tier down. Once a minute (``BUDGET_KEEPER_PROBE_SEC``) the keeper
asks such a tier again with a one-token call of its own (one worker per interval); an answer brings the
tier back up and the plan's return policy takes over.

Fail closed: when the keeper cannot decide (no ``BUDGET_KEEPER_SPEC``, a state that cannot be opened or
written, a Redis that does not answer) the request is refused with decision ``refused`` and one line in
the proxy's log; the proxy keeps serving and the next request tries the state again.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from fastapi import HTTPException
from litellm.integrations.custom_logger import CustomLogger

from budget.errors import BudgetError
from budget.traffic.live.engine import DEFAULT_COMPLETION_TOKENS, LiveKeeper

# what a caller may not decide: the keeper chooses the tier and a down tier gets no retries
STRIP = (
    "fallbacks",
    "context_window_fallback_dict",
    "content_policy_fallbacks",
    "num_retries",
    "max_retries",
    "api_base",
    "base_url",
    "api_key",
    "api_version",
    "mock_response",
    "mock_testing_fallbacks",
)
PROBE_KEY = "budget_keeper_probe"  # marks the keeper's own probe of a down tier in the log events
PROBE_MESSAGE: list[Any] = [{"role": "user", "content": "Reply with OK."}]
DECISION_KEY = "budget_keeper_decision"  # where the decision travels to the log events (the caller's copy is dropped)
RETRY_AFTER_SEC = 60  # the keeper decides again at its next tick


def log_line(text: str) -> None:
    print(f"budget-keeper: {text}", file=sys.stderr, flush=True)


def estimate_tokens(data: dict[str, Any]) -> float:
    """The reservation before the call: the prompt's characters / 4 plus max_tokens (or a default)."""
    chars = 0
    for m in data.get("messages") or []:
        content = m.get("content") if isinstance(m, dict) else None
        chars += len(content) if isinstance(content, str) else len(str(content or ""))
    limit = data.get("max_tokens") or data.get("max_completion_tokens")
    completion = limit if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0 else 0
    return float(chars // 4 + (completion or DEFAULT_COMPLETION_TOKENS))


class KeeperCallback(CustomLogger):
    def __init__(self) -> None:
        super().__init__()
        self._keeper: LiveKeeper | None = None
        self._last_error = ""
        self._probes: set[asyncio.Task[None]] = set()  # probes in flight (kept so they are not collected)

    def keeper(self) -> LiveKeeper:
        if self._keeper is None:
            self._keeper = LiveKeeper.from_env()
        return self._keeper

    def _refuse(self, body: dict[str, Any]) -> HTTPException:
        headers = {
            "x-budget-decision": str(body.get("decision", "refused")),
            "x-budget-decision-id": str(body.get("id", "")),
            "retry-after": str(RETRY_AFTER_SEC),
        }
        return HTTPException(status_code=429, detail=body, headers=headers)

    # defined on this class: the proxy calls the hook only when the instance's own class defines it
    async def async_pre_call_hook(self, user_api_key_dict: Any, cache: Any, data: dict, call_type: Any) -> Any:
        md = data.get("metadata")
        if not isinstance(md, dict):
            md = data["metadata"] = {}
        for key in STRIP:
            data.pop(key, None)
        md.pop(DECISION_KEY, None)
        asked = data.get("model")
        try:
            decision = self.keeper().decide(asked, md, estimate_tokens(data))
        except BudgetError as exc:
            log_line(f"refused (keeper unavailable): {exc}")
            raise self._refuse({"decision": "refused", "reason": f"keeper unavailable: {exc}"}) from None
        except Exception as exc:  # fail closed: no request passes a keeper that broke
            log_line(f"refused (keeper error): {type(exc).__name__}: {exc}")
            raise self._refuse({"decision": "refused", "reason": "keeper error (see the proxy log)"}) from None
        if decision.probe:
            task = asyncio.get_running_loop().create_task(self._probe(decision.probe))
            self._probes.add(task)
            task.add_done_callback(self._probes.discard)
        body = decision.to_dict()
        if not decision.served:
            if decision.decision == "refused":
                log_line(f"refused request for {asked!r}: {decision.reason}")
            raise self._refuse(body)
        md[DECISION_KEY] = body
        data["model"] = decision.tier
        return data

    async def _probe(self, tier: str) -> None:
        """Ask a tier its upstream took down whether it answers again; an answer brings it back up."""
        try:
            tokens = await _ask_tier(tier)
        except Exception as exc:  # the tier still fails: it stays down until the next probe
            status = getattr(exc, "status_code", None)
            self._note_probe(tier, False, f"upstream failed: {type(exc).__name__} {status or ''}".strip())
            return
        self._note_probe(tier, True, "the upstream answered", tokens)

    def _note_probe(self, tier: str, answered: bool, why: str, tokens: float = 0.0) -> None:
        try:
            keeper = self.keeper()
            if keeper.probed(tier, answered, why, tokens):
                log_line(f"{tier} back up at {time.strftime('%H:%M:%S', time.gmtime(keeper.clock()))}: probe answered")
        except BudgetError as exc:
            log_line(f"probe of {tier} not recorded: {exc}")

    async def async_log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        decision = _decision(kwargs)
        if decision is None:
            return
        usage = getattr(response_obj, "usage", None)
        total = getattr(usage, "total_tokens", None) if usage is not None else None
        try:
            self.keeper().reconcile(decision, float(total or 0), decision.get("tier"))
        except BudgetError as exc:
            log_line(f"usage of {decision.get('id')} not reconciled: {exc}")

    async def async_log_failure_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        if kwargs.get("litellm_no_upstream_llm_call"):
            return  # the keeper's own refusal
        decision = _decision(kwargs)
        if decision is None:
            return
        exc = kwargs.get("exception")
        status = getattr(exc, "status_code", None)
        tier = decision.get("tier")
        try:
            keeper = self.keeper()
            keeper.reconcile(decision, None, tier)
            if tier and (status is None or int(status) >= 500 or int(status) == 408):
                why = f"upstream failed: {type(exc).__name__} {status or ''}".strip()
                if keeper.set_tier(str(tier), True, why, by="upstream"):
                    log_line(f"{tier} marked down at {time.strftime('%H:%M:%S', time.gmtime(keeper.clock()))}: {why}")
        except BudgetError as exc2:
            log_line(f"failure of {decision.get('id')} not recorded: {exc2}")


async def _ask_tier(tier: str) -> float:
    """One short call to the tier through the proxy's own router (its deployment, key and base, no retries);
    the tokens it used. Raises what the call raises."""
    from litellm.proxy.proxy_server import llm_router

    if llm_router is None:
        raise RuntimeError("the proxy has no router")
    response = await llm_router.acompletion(
        model=tier, messages=PROBE_MESSAGE, max_tokens=1, num_retries=0, metadata={PROBE_KEY: True}
    )
    usage = getattr(response, "usage", None)
    return float(getattr(usage, "total_tokens", 0) or 0)


def _decision(kwargs: Any) -> dict[str, Any] | None:
    params = kwargs.get("litellm_params") or {}
    md = params.get("metadata") or {}
    got = md.get(DECISION_KEY)
    return got if isinstance(got, dict) else None


keeper = KeeperCallback()
