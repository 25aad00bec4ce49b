"""The package's exceptions: one base class, subclasses only where callers differ."""

from __future__ import annotations


class BudgetError(ValueError):
    """Invalid input: a file, a field or a value the workbench cannot accept.

    The message is one line and names the file, the line where known, and the
    field path, e.g. ``specs/x.yaml:14: phases.plan.local-coder: must be ...``.
    """


class QueryError(BudgetError):
    """A malformed inspect/gateway query or a field the result does not have.

    The CLI maps this to exit code 2 (a usage error of the query), while other
    BudgetErrors exit 1.
    """


class UsageError(BudgetError):
    """A command's arguments cannot describe a run (an empty sweep range, say): exit code 2."""
