"""Run bench/floor_app.py under gunicorn with the options `cds-service serve` uses.

Usage: floor_server.py HOST PORT WORKERS
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gunicorn.app.base import BaseApplication  # noqa: E402

# The same options as cds_service.serve.serve() (kept in step by hand; bench.py prints both).
OPTIONS = {
    "worker_class": "sync",
    "timeout": 30,
    "graceful_timeout": 10,
    "keepalive": 5,
    "accesslog": None,
    "preload_app": False,
}


class _Floor(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from floor_app import app

        return app


def main() -> None:
    host, port, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    _Floor({"bind": f"{host}:{port}", "workers": workers, **OPTIONS}).run()


if __name__ == "__main__":
    main()
