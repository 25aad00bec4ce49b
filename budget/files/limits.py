"""Every bound on input size and work, in one place (documented in docs/limits.md).

Each limit is chosen so that a run at the limit answers in a few seconds on two
cores and well under 1 GiB of memory; past it the input is refused with one line
that names the limit. ``bench/limits.py`` times the runs at the limits.
"""

from __future__ import annotations

from budget.errors import UsageError

MIB = 1024 * 1024

# --- files ------------------------------------------------------------------------------
MAX_INPUT_BYTES = 5 * MIB  # a spec, plan, scenario, validation file or severity map
MAX_YAML_BYTES = 256 * 1024  # any YAML input: composed in Python, ~1 s at worst for 256 KiB (JSON: 5 MiB)
MAX_RESULT_BYTES = 16 * MIB  # a simulate or drill result read back (a queue of 10,000 writes ~12 MB)
MAX_ALERT_FILE_BYTES = 32 * MIB  # an alert stream (CSV, JSONL, webhooks, PagerDuty)
MAX_HISTORY_BYTES = 16 * MIB  # a drill history (one line a run)
MAX_NOTE_BYTES = 4 * MIB  # the capstone note
MAX_UPLOAD_BYTES = 5 * MIB  # a file uploaded in the app (same as server.maxUploadSize)
MAX_NESTING = 64  # containers inside containers in any JSON or YAML file
MAX_INT_DIGITS = 18  # an integer in any input file: at most 18 digits (|n| < 10**18)
MAX_CSV_FIELD_CHARS = 131_072  # one CSV field (the csv module's own default)

# --- work -------------------------------------------------------------------------------
MAX_TIERS = 16  # tiers in one spec
MAX_PHASES = 64  # phases in one spec (control_reserve not counted)
MAX_QUEUE = 10_000  # incidents in one simulated queue (a 10,000 queue over a day: ~2 s)
MAX_DURATION_MIN = 1440  # an outage, minutes (one day)
MAX_DURATION_SEC = 30 * 86400  # any duration in a spec (sla_p95, sla_resolve): 30 days
MAX_ALERTS = 100_000  # records in one alert stream
MAX_OUTAGES = 12  # distinct outage lengths in one drill or sweep
MAX_DRILL_REPLAYS = 300_000  # incidents x runs of one drill, over all its days (75,000 alerts x 4 runs: ~3 s)
MAX_DRILL_DAY_RUNS = 120  # days x runs of a drill: a run is a keeper day (~25 ms, ~130 KB of result), even of one alert
MAX_SWEEP_VALUES = 100  # values of one calibrate axis (--frontier-shares, --reserves, ...)
MAX_SWEEP_VARIANTS = 1_000  # variants of one calibrate sweep
MAX_SWEEP_REPLAYS = 2_000_000  # incidents x outages x variants of one sweep (the default: 528,000)
MAX_SWEEP_DAY_RUNS = 5_000  # days x outages x variants of one sweep (the default sweep over a week: 4,620)
MAX_WORKERS = 64  # calibrate --workers
MAX_QUERY_CHARS = 10_000  # an inspect query or a gateway condition
MAX_TEXT_CHARS = 2_000  # one note field (risk, effect, decision)
MAX_INCIDENTS_PER_DAY = 1_000_000  # budget propose --incidents-per-day
MAX_TOKENS_PER_INCIDENT = 10_000_000  # budget propose --incident-tokens, policy.tokens_per_incident


def check_replays(what: str, incidents: int, runs: int, limit: int, hint: str) -> None:
    """Refuse a run that would replay more than ``limit`` incidents in all (exit 2, see docs/limits.md)."""
    total = incidents * runs
    if total > limit:
        raise UsageError(
            f"{what}: {incidents:,} incidents x {runs:,} runs = {total:,} incident replays, "
            f"over the {limit:,} limit; {hint}"
        )


def check_day_runs(what: str, days: int, runs: int, limit: int, hint: str) -> None:
    """Refuse a run of more whole keeper days than ``limit`` (days x runs; each costs the same however few alerts)."""
    if days * runs > limit:
        raise UsageError(
            f"{what}: {days:,} days x {runs:,} runs = {days * runs:,} day replays, over the {limit:,} limit; {hint}"
        )
