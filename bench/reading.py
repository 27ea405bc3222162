"""Reading benchmark: precision and recall of the text reader on the reading corpus.

    .venv/bin/python bench/reading.py [CORPUS.jsonl]

The corpus (tests/clinical/reading_corpus.jsonl) holds radiologist-style sentences,
each annotated with its findings: concept, status and, where the text makes them
clear, joint and side. A finding counts as found when the reader gives the same
concept and status (and the same joint and side, where the annotation gives them).
Prints precision and recall per concept and per concept x status, the sentences read
wrong, and the time spent reading (ms per sentence, informational).
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "clinical" / "reading_corpus.jsonl"


@dataclass
class Score:
    true_pos: Counter = field(default_factory=Counter)
    false_pos: Counter = field(default_factory=Counter)
    false_neg: Counter = field(default_factory=Counter)
    wrong: list = field(default_factory=list)  # (id, text, expected, got)

    def precision(self, key) -> float:
        tp, fp = self.true_pos[key], self.false_pos[key]
        return tp / (tp + fp) if tp + fp else 1.0

    def recall(self, key) -> float:
        tp, fn = self.true_pos[key], self.false_neg[key]
        return tp / (tp + fn) if tp + fn else 1.0

    def keys(self) -> list:
        every = set(self.true_pos) | set(self.false_pos) | set(self.false_neg)
        return sorted(every, key=lambda k: (k, "") if isinstance(k, str) else k)


def load(path: Path = CORPUS) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def _matches(expected: dict, got: dict) -> bool:
    return (expected["concept"] == got["concept"] and expected["status"] == got["status"]
            and all(expected.get(k) is None or expected[k] == got.get(k)
                    for k in ("joint", "side")))


def score(entries: list[dict], read) -> Score:
    """`read(text)` -> list of finding dicts (cds_service.clinical.read_out schema).
    Each expected finding is matched to at most one reader finding and vice versa;
    the reader's repeats of a matched (concept, status) are not counted against it."""
    result = Score()
    for entry in entries:
        got = read(entry["text"])
        expected = entry["findings"]
        unmatched = list(got)
        missed = []
        for exp in expected:
            hit = next((g for g in unmatched if _matches(exp, g)), None)
            if hit is None:
                hit = next((g for g in got if _matches(exp, g)), None)  # a shared match
            if hit is None:
                missed.append(exp)
            else:
                if hit in unmatched:
                    unmatched.remove(hit)
                for key in (exp["concept"], (exp["concept"], exp["status"])):
                    result.true_pos[key] += 1
        matched_kinds = {(e["concept"], e["status"]) for e in expected}
        extra = [g for g in unmatched if (g["concept"], g["status"]) not in matched_kinds]
        for exp in missed:
            for key in (exp["concept"], (exp["concept"], exp["status"])):
                result.false_neg[key] += 1
        for g in extra:
            for key in (g["concept"], (g["concept"], g["status"])):
                result.false_pos[key] += 1
        if missed or extra:
            result.wrong.append((entry["id"], entry["text"], expected,
                                 [{k: g[k] for k in ("concept", "status", "joint", "side")}
                                  for g in got]))
    return result


def reader():
    from cds_service.clinical.read_out import describe
    from cds_service.clinical.text_reader import default_reader

    text_reader = default_reader()
    text_reader.warm()
    return lambda text: describe(text_reader.read(text))["findings"]


def main(argv: list[str]) -> int:
    entries = load(Path(argv[1]) if len(argv) > 1 else CORPUS)
    read = reader()
    started = time.perf_counter()
    result = score(entries, read)
    elapsed = time.perf_counter() - started
    print(f"{'concept / status':34} {'prec':>6} {'recall':>6} {'n':>5}")
    for key in result.keys():
        name = key if isinstance(key, str) else f"  {key[0]} {key[1]}"
        n = result.true_pos[key] + result.false_neg[key]
        print(f"{name:34} {result.precision(key):6.1%} {result.recall(key):6.1%} {n:5d}")
    print(f"\n{len(entries)} entries, {len(result.wrong)} read wrong; "
          f"{elapsed / len(entries) * 1000:.2f} ms per entry (first read, uncached)")
    for entry_id, text, expected, got in result.wrong:
        print(f"\n{entry_id}: {text!r}\n  expected {expected}\n  got      {got}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main(sys.argv))
