"""``python -m budget ...`` is the same as ``budget ...``: :func:`run` is the console script too."""

import sys


def run() -> None:
    """Load the command line, then run it: Ctrl-C while it loads is one line and exit 130 as well."""
    try:
        from budget.cli import run as run_cli
    except KeyboardInterrupt:
        sys.stderr.write("budget: interrupted (SIGINT)\n")
        raise SystemExit(130) from None
    run_cli()


if __name__ == "__main__":
    run()
