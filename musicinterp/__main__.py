"""``python -m musicinterp``: the command line (also what ``accelerate launch -m musicinterp`` runs)."""

from .cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
