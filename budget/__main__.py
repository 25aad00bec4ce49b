"""``python -m budget ...`` is the same as ``budget ...``."""

from budget.cli import run

if __name__ == "__main__":
    run()
