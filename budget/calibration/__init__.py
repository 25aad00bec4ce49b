"""Calibration: a plan's variants swept against outage drills, and a starting plan.

The sweep's tasks and where they run (``sweep``: local processes or a Dask cluster through
``cluster``), the sweep itself with its recommendation and ``budget propose`` (``calibrate``).

May import: ``budget.drill``, ``budget.gateway``, ``budget.keeper``, ``budget.model``, ``budget.files``,
``budget.errors``. Never traffic or the workbench.
"""

from budget.calibration.calibrate import (
    DEFAULT_PRICES,
    Variant,
    calibrate,
    grid,
    price_of,
    propose,
    spec_yaml,
    sweep_grid,
    variant_spec,
)

__all__ = [
    "DEFAULT_PRICES",
    "Variant",
    "calibrate",
    "grid",
    "price_of",
    "propose",
    "spec_yaml",
    "sweep_grid",
    "variant_spec",
]
