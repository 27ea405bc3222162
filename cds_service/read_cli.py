"""`cds-service read`: how the text reader reads report text, as JSON (docs/reading.md).

Why: an informaticist tuning hooks/vocabulary/ needs to see why a report was read as
it was: each finding with its concept, status, joint, site, side, section and sentence.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cds_service.clinical.text_reader import TextReader

MAX_INPUT_CHARS = 10_000_000  # the whole input; each text is read up to the reader's cap


def add_read_command(commands: Any) -> None:
    read = commands.add_parser(
        "read", help="read report text and print its findings as JSON",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Read a report (a file, or - for stdin) and print each finding as "
                    "JSON; with --jsonl, read one {\"id\", \"text\"} object per line and "
                    "print one {\"id\", \"findings\"} line per input.")
    read.add_argument("path", nargs="?", default="-", help="text file, or - for stdin")
    read.add_argument("--jsonl", action="store_true",
                      help="input is JSON lines of {\"id\": ..., \"text\": ...}")
    read.add_argument("--vocabulary", type=Path, default=None,
                      help="vocabulary folder (default: the package's own, "
                           "cds_service/hooks/vocabulary)")
    read.add_argument("--config", dest="config", default=argparse.SUPPRESS,
                      help="TOML configuration file (or set CDS_CONFIG)")
    read.set_defaults(func=cmd_read)


def cmd_read(args: argparse.Namespace) -> int:
    from cds_service.clinical.text_reader import DEFAULT_VOCABULARY, TextReader
    from cds_service.clinical.vocabulary import VocabularyError

    try:
        reader = TextReader.from_folder(args.vocabulary or DEFAULT_VOCABULARY)
        reader.warm()
    except VocabularyError as exc:
        print(f"cds-service read: {exc}", file=sys.stderr)
        return 2
    source = sys.stdin if args.path == "-" else open(args.path, encoding="utf-8")  # noqa: SIM115
    with source:
        data = source.read(MAX_INPUT_CHARS + 1)
    if len(data) > MAX_INPUT_CHARS:
        print(f"cds-service read: input over {MAX_INPUT_CHARS:,} characters", file=sys.stderr)
        return 2
    if args.jsonl:
        return read_batch(data, sys.stdout, reader)
    return read_one(data, sys.stdout, reader)


def read_one(text: str, out: IO[str], reader: TextReader) -> int:
    from cds_service.clinical.read_out import describe

    json.dump(describe(reader.read(text)), out, indent=2, ensure_ascii=False)
    out.write("\n")
    return 0


def read_batch(data: str, out: IO[str], reader: TextReader) -> int:
    """One output line per input line; a bad line is reported by number and skipped."""
    from cds_service.clinical.read_out import describe

    status = 0
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            text = item["text"]
            if not isinstance(text, str):
                raise TypeError("text is not a string")
        except (ValueError, KeyError, TypeError) as exc:
            print(f"cds-service read: line {number}: not {{\"id\", \"text\"}} ({exc})",
                  file=sys.stderr)
            status = 2
            continue
        result = {"id": item.get("id"), **describe(reader.read(text))}
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
    return status
