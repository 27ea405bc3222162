"""Run bench/floor_app.py under gunicorn with the options `cds-service serve` uses
(cds_service.serve.GUNICORN_OPTIONS, imported, so the two cannot drift).

Usage: floor_server.py HOST PORT WORKERS
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cds_service.serve import GUNICORN_OPTIONS, GunicornApp  # noqa: E402


def _floor() -> Any:
    from floor_app import app

    return app


def main() -> None:
    host, port, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    GunicornApp({"bind": f"{host}:{port}", "workers": workers, **GUNICORN_OPTIONS}, _floor).run()


if __name__ == "__main__":
    main()
