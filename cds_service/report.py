"""`cds-service feedback-report`: what the informaticist reads to tune the triggers."""

from __future__ import annotations

from typing import TextIO

from cds_service.config import Settings
from cds_service.store.db import make_engine, migrate
from cds_service.store.records import feedback_summary


def print_feedback_report(settings: Settings, out: TextIO) -> int:
    engine = make_engine(settings.store.url)
    try:
        migrate(engine)
        rows = feedback_summary(engine)
    finally:
        engine.dispose()
    if not rows:
        print("No cards issued yet.", file=out)
        return 0
    print(f"{'topic':<24} {'issued':>6} {'accepted':>8} {'overridden':>10} {'accept%':>7} {'override%':>9}", file=out)
    for row in rows:
        print(
            f"{row.topic:<24} {row.issued:>6} {row.accepted:>8} {row.overridden:>10} "
            f"{row.acceptance_rate:>7.0%} {row.override_rate:>9.0%}",
            file=out,
        )
    print("\nOverride reasons:", file=out)
    any_reason = False
    for row in rows:
        for reason, count in sorted(row.override_reasons.items(), key=lambda kv: -kv[1]):
            any_reason = True
            print(f"  {row.topic:<22} {count:>4}  {reason}", file=out)
    if not any_reason:
        print("  (none)", file=out)
    return 0
