"""`cds-service` command line: serve, invoke, feedback-report, fixtures load, read."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from cds_service.config import Settings, load_settings


def _settings(args: argparse.Namespace) -> Settings:
    if args.config:
        os.environ["CDS_CONFIG"] = os.path.abspath(args.config)  # workers inherit it
    return load_settings()


def cmd_serve(args: argparse.Namespace) -> int:
    from cds_service.serve import serve

    return serve(_settings(args), args.host, args.port, args.workers)


def cmd_feedback_report(args: argparse.Namespace) -> int:
    from cds_service.report import print_feedback_report

    return print_feedback_report(_settings(args), sys.stdout)


def cmd_invoke(args: argparse.Namespace) -> int:
    from cds_service.invoke import run_invoke

    return run_invoke(args, sys.stdout)


def cmd_fixtures_load(args: argparse.Namespace) -> int:
    from cds_service.invoke import run_fixtures_load

    return run_fixtures_load(args, sys.stdout)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cds-service", description=__doc__)
    parser.add_argument("--config", help="TOML configuration file (or set CDS_CONFIG)")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the service under gunicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=2)
    serve.add_argument("--config", dest="config", default=argparse.SUPPRESS)
    serve.set_defaults(func=cmd_serve)

    report = commands.add_parser("feedback-report", help="acceptance and override rates per card topic")
    report.add_argument("--config", dest="config", default=argparse.SUPPRESS)
    report.set_defaults(func=cmd_feedback_report)

    invoke = commands.add_parser("invoke", help="send a hook request the way an EHR would")
    invoke.add_argument("--url", default="http://127.0.0.1:8080", help="the service's base URL")
    invoke.add_argument("--service", default="toh-core-decompression-sign", help="service id")
    source = invoke.add_mutually_exclusive_group(required=True)
    source.add_argument("--fixture", help="fixture patient name (fixtures/manifest.toml) or bundle path")
    source.add_argument("--patient", help="patient id on --fhir-server")
    invoke.add_argument("--fhir-server", help="FHIR base URL: data source, and fhirServer in the request")
    invoke.add_argument("--token", help="bearer token for the FHIR server (or CDS_FHIR_TOKEN)")
    invoke.add_argument("--no-prefetch", action="store_true", help="send no prefetch: the service fetches")
    invoke.add_argument("--json", action="store_true", help="print the raw response")
    invoke.add_argument("--print-request", action="store_true",
                        help="print the hook request instead of sending it (for curl -d @-)")
    invoke.add_argument("--config", dest="config", default=argparse.SUPPRESS)
    invoke.set_defaults(func=cmd_invoke)

    fixtures = commands.add_parser("fixtures", help="fixture tools")
    fixtures_cmds = fixtures.add_subparsers(dest="fixtures_command", required=True)
    load = fixtures_cmds.add_parser("load", help="load fixture bundles into a FHIR R4 server")
    load.add_argument("--fhir-server", required=True)
    load.add_argument("--token", help="bearer token (or CDS_FHIR_TOKEN)")
    load.add_argument("paths", nargs="*", help="bundle files (default: every fixture patient)")
    load.set_defaults(func=cmd_fixtures_load)

    from cds_service.read_cli import add_read_command

    add_read_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not hasattr(args, "config"):
        args.config = None
    try:
        return int(args.func(args))
    except FileNotFoundError as exc:
        print(f"cds-service: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # python -m cds_service.cli
    raise SystemExit(main())
