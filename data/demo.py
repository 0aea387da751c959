"""Load demo data: a demo account with the sample sales dataset (idempotent)."""

from __future__ import annotations


def main() -> None:
    """Prepare the databases and load the demo data."""
    from app import create_app

    create_app()
    print("Databases ready. Open http://127.0.0.1:8050")


if __name__ == "__main__":
    main()
