"""What reading S1's three radiology reports costs in process, as bench/PROFILE.md counts it.

    .venv/bin/python bench/reading_cost.py [--against COMMIT]

Each round reads the three reports of the S1 patient with a unique token appended (as
bench/run's BENCHNONCE does), so nothing comes from the reading cache. Prints the median
and the best of 200 rounds, in ms of CPU time of the reading thread (so that other
load on the machine moves the figure less than wall-clock time would). With --against, the same reports are read by the
text reader of COMMIT (checked out in a temporary git worktree, same interpreter) in a
separate process, and the ratio new/old is printed: the figure issue 11 asks for.

With --instructions the cost is counted, not timed: each reader runs under valgrind's
callgrind twice (after warm-up, 0 and INSTRUCTION_ROUNDS rounds) and the difference is
its instructions per round, the same figure whatever else the machine is doing (a few
minutes: callgrind runs Python ~50x slower).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 200
INSTRUCTION_ROUNDS = 30


def s1_texts() -> list[str]:
    sys.path.insert(0, str(ROOT))
    from bench.make_data import s1_bundle

    texts = []
    for entry in s1_bundle(date(2026, 11, 2))["entry"]:
        res = entry["resource"]
        if res.get("resourceType") != "DiagnosticReport":
            continue
        parts = [res.get("conclusion") or ""]
        parts += [base64.b64decode(a["data"]).decode("utf-8")
                  for a in res.get("presentedForm", []) if a.get("data")]
        texts.append("\n".join(p for p in parts if p))
    return texts


def _warm_reader(root: Path, texts: list[str]) -> Any:
    """The text reader found under `root`, warmed up (spaCy's lazy set-up, allocator)."""
    sys.path.insert(0, str(root))
    from cds_service.clinical import text_reader as module

    # a reader object since issue 15; the module's functions before (an older checkout)
    text_reader = module.default_reader() if hasattr(module, "default_reader") else module
    text_reader.warm()
    for i in range(10):
        for text in texts:
            text_reader.read(f"{text}\nwarm {i}")
    return text_reader


def measure(root: Path, texts: list[str]) -> list[float]:
    """ms per round of reading `texts`, with the text reader found under `root`."""
    text_reader = _warm_reader(root, texts)
    times = []
    for i in range(ROUNDS):
        started = time.thread_time()  # CPU time: what reading costs, whatever else runs
        for text in texts:
            text_reader.read(f"{text}\nround {i}")
        times.append((time.thread_time() - started) * 1000)
    return times


def read_rounds(root: Path, texts: list[str], rounds: int) -> None:
    """Warm up as `measure` does, then read `rounds` rounds (for instruction counts)."""
    text_reader = _warm_reader(root, texts)
    for i in range(rounds):
        for text in texts:
            text_reader.read(f"{text}\nround {i}")


def _instructions(root: Path, texts: list[str], rounds: int) -> int:
    code = ("import json,sys; sys.path.insert(0, sys.argv[2]); from bench.reading_cost import "
            "read_rounds; read_rounds(__import__('pathlib').Path(sys.argv[1]), "
            "json.loads(sys.stdin.read()), int(sys.argv[3]))")
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/out",
             sys.executable, "-c", code, str(root), str(ROOT), str(rounds)],
            input=json.dumps(texts), capture_output=True, text=True, check=True, cwd=root,
            env={**os.environ, "PYTHONHASHSEED": "0"})
    return int(re.search(r"Collected : (\d+)", done.stderr).group(1))


def _per_round(root: Path, texts: list[str]) -> float:
    """Instructions per round of reading: N rounds minus none, over N."""
    return (_instructions(root, texts, INSTRUCTION_ROUNDS) - _instructions(root, texts, 0)
            ) / INSTRUCTION_ROUNDS


def _child(root: Path, texts: list[str]) -> list[float]:
    code = ("import json,sys; sys.path.insert(0, sys.argv[2]); from bench.reading_cost import "
            "measure; print(json.dumps(measure(__import__('pathlib').Path(sys.argv[1]), "
            "json.loads(sys.stdin.read()))))")
    done = subprocess.run([sys.executable, "-c", code, str(root), str(ROOT)],
                          input=json.dumps(texts), capture_output=True, text=True, check=True,
                          cwd=root)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", help="a commit whose reader to compare with")
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions with valgrind instead of timing")
    args = parser.parse_args()
    if args.instructions and not shutil.which("valgrind"):
        parser.error("--instructions needs valgrind (Debian: apt-get install valgrind)")
    texts = s1_texts()
    print(f"S1: {len(texts)} reports, {sum(map(len, texts)):,} characters")
    cost = _per_round if args.instructions else _child
    new = cost(ROOT, texts)
    _show("this checkout", new)
    if args.against:
        with tempfile.TemporaryDirectory() as tmp:
            old_root = Path(tmp) / "old"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old_root),
                            args.against], check=True, capture_output=True)
            try:
                old = cost(old_root, texts)
            finally:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                str(old_root)], check=False, capture_output=True)
        _show(args.against[:10], old)
        if isinstance(new, float) and isinstance(old, float):
            print(f"ratio this/old: {new / old:.2f} (instructions per round)")
        else:
            print(f"ratio this/old: median {statistics.median(new) / statistics.median(old):.2f},"
                  f" best {min(new) / min(old):.2f}")
    return 0


def _show(name: str, cost: float | list[float]) -> None:
    if isinstance(cost, float):
        print(f"{name}: {cost / 1e6:.2f} M instructions per round")
    else:
        print(f"{name}: median {statistics.median(cost):.2f} ms, best {min(cost):.2f} ms")


if __name__ == "__main__":
    sys.exit(main())
