"""The MCP server over stdio, an entry point like data/worker.py:

    INSIGHTBOARD_AGENT_TOKEN=iba_... python -m api.mcp_stdio \
        --token-env INSIGHTBOARD_AGENT_TOKEN

It builds the app through the factory (the same settings from the environment as
the web process: DATABASE_URL, MONGO_URI, ...) and serves the tools of
api/mcp_server.py on stdin/stdout; logs go to stderr.
"""

from __future__ import annotations

import argparse
import os
import sys

from api.mcp_server import build_server, stdio_call_scope
from app import create_app

DEFAULT_TOKEN_ENV = "INSIGHTBOARD_AGENT_TOKEN"


def main(argv: list[str] | None = None) -> int:
    """Read the agent token from the named variable and serve MCP over stdio."""
    parser = argparse.ArgumentParser(description="Insightboard's MCP server (stdio)")
    parser.add_argument(
        "--token-env",
        default=DEFAULT_TOKEN_ENV,
        help=f"environment variable holding the agent token ({DEFAULT_TOKEN_ENV})",
    )
    args = parser.parse_args(argv)
    token_value = os.environ.get(args.token_env, "").strip()
    if not token_value:
        print(f"insightboard mcp: set {args.token_env} to an agent token",
              file=sys.stderr)  # fmt: skip
        return 2
    # Schedules stay with the web process; this one only answers agents.
    app = create_app({"report_schedule_interval_s": 0, "alert_schedule_interval_s": 0})
    build_server(stdio_call_scope(app.server, token_value)).run("stdio")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
