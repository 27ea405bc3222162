"""`cds-service migrate`: bring the store's schema to the newest Alembic revision once per
release (a Kubernetes Job, a deploy step) instead of in every replica's start.

`serve` migrates on start unless `[store] migrate_on_start = false`; then it only checks
that the schema is at the newest revision and refuses to start otherwise
(`schema_problem`). `migrate --check` makes the same check and exits 1 when behind.
See docs/deploy.md.
"""

from __future__ import annotations

import argparse
import sys

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from cds_service.store.db import MIGRATIONS, make_engine, migrate


def schema_problem(engine: Engine) -> str | None:
    """None when the store's schema is at the newest revision, else one line saying why not."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    heads = set(ScriptDirectory.from_config(config).get_heads())
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except Exception as exc:  # noqa: BLE001 -- any driver error: the store cannot be read
        return f"the store cannot be read ({type(exc).__name__})"
    if current == heads:
        return None
    have = f"at revision {', '.join(sorted(current))}" if current else "absent"
    return (f"the store's schema is {have}; this version needs {', '.join(sorted(heads))}: "
            "run `cds-service migrate` once (or set [store] migrate_on_start = true)")


def add_migrate_command(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "migrate", help="bring the store's schema to the newest revision",
        description="Bring the schema of the store in [store] url to the newest revision "
        "(idempotent). Run it once per release before the replicas start with "
        "[store] migrate_on_start = false.")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 when the schema is not the newest")
    parser.add_argument("--config", dest="config", default=argparse.SUPPRESS,
                        help="TOML configuration file (or set CDS_CONFIG)")
    parser.set_defaults(func=cmd_migrate)


def cmd_migrate(args: argparse.Namespace) -> int:
    from cds_service.cli import _settings

    engine = make_engine(_settings(args).store.url)
    try:
        if not args.check:
            migrate(engine)
        problem = schema_problem(engine)
    finally:
        engine.dispose()
    if problem is not None:
        print(f"cds-service: {problem}", file=sys.stderr)
        return 1
    print("cds-service: the store's schema is at the newest revision")
    return 0
