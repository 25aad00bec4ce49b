"""Running a sweep's tasks on a Dask distributed cluster (``calibrate --scheduler ADDRESS``).

The client connects to the scheduler (``tcp://host:8786``) within
:data:`CONNECT_TIMEOUT_SEC`; each day's incidents go to the cluster once
(``scatter``) and every task names its day, so a quarter of history is sent
once, not once per task. The tasks are the same pure function the local pool
runs, so the table is the same byte for byte. The workers need this package
installed (the same version): ``pip install 'budget-workbench[dask]'`` on each.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from typing import Any

from budget.errors import BudgetError, UsageError

CONNECT_TIMEOUT_SEC = 5


def _reachable(address: str) -> None:
    """Fail at once when nothing listens at a TCP address (the client would retry until its timeout)."""
    host_port = address.removeprefix("tcp://")
    if "://" in host_port or ":" not in host_port:
        return  # another protocol, or no port: the client says what is wrong
    host, _, port = host_port.rpartition(":")
    if not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_SEC).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(f"--scheduler {address}: cannot reach a Dask scheduler ({reason})") from None


def run_on_cluster(
    address: str,
    fn: Callable[..., Any],
    jobs: Sequence[Any],
    days: Sequence[Any],
    record: Callable[[int, Any], None],
) -> None:
    """``record(i, fn(jobs[i], days[jobs[i].day]))`` for every job, computed on the cluster at ``address``."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise UsageError(
            "--scheduler needs Dask's distributed scheduler: pip install 'budget-workbench[dask]'"
        ) from None
    _reachable(address)
    try:
        client = Client(address, timeout=f"{CONNECT_TIMEOUT_SEC}s")
    except (OSError, TimeoutError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(f"--scheduler {address}: cannot reach a Dask scheduler ({reason})") from None
    with client:
        shared = client.scatter(list(days), broadcast=False)
        futures = {client.submit(fn, job, shared[job.day], pure=False): i for i, job in enumerate(jobs)}
        for fut in as_completed(futures):
            try:
                rows = fut.result()
            except BudgetError:
                raise
            except Exception as exc:  # a worker without this package, or one that died
                reason = str(exc).splitlines()[0] if str(exc) else ""
                raise BudgetError(
                    f"--scheduler {address}: a task failed on the cluster: {type(exc).__name__}: {reason}"
                ) from None
            record(futures[fut], rows)
