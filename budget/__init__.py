"""Tiered model routing under a daily token budget: spec, compile, simulate, inspect."""

from budget.errors import BudgetError, QueryError

__all__ = ["BudgetError", "QueryError", "__version__"]
__version__ = "0.1.0"
