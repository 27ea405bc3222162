"""The words of a card's detail: at most five short bullets a surgeon reads in seconds.

Why this shape (issue 14): a card that does not fit on one screen is not read. Each
bullet is one thing: the decisive finding (one short quote, dated), what is absent, the
labs (values in the units people read, with the limit applied), the risk factors, and
the plan. The FHIR references stay out of the prose: the card's suggestions, its stored
evidence and the evidence timeline carry them. Lists and quotes shrink, level by level,
until the detail holds at most MAX_WORDS words; a summary takes the first of its
wordings that fits the spec's 140 characters. Shared by every handler's cards.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from cds_service.clinical.reasons import Reason, day
from cds_service.wire.cards import SUMMARY_MAX

MAX_BULLETS, MAX_WORDS, TARGET_WORDS = 5, 120, 100
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


@dataclass(frozen=True)
class Caps:
    """How much a bullet may hold: words of a quote, items of a list."""

    quote_words: int
    items: int


LEVELS = (Caps(14, 3), Caps(10, 3), Caps(10, 2), Caps(7, 1))
CLIP_WORDS = 22  # last resort: no bullet longer than this (5 x 22 + marks < MAX_WORDS)
_TRAILING = {"a", "an", "and", "at", "by", "for", "from", "in", "of", "on", "or", "the",
             "to", "with", "which", "that", "is", "are", "was"}
_SIGNS = (("double", "double-line sign"), ("crescent", "crescent"),
          ("collapse", "collapse"), ("demarcat", "demarcated lesion"),
          ("step-off", "step-off"), ("band", "low-signal band"), ("rim", "low-signal rim"),
          ("necrotic", "necrotic segment"), ("geographic", "geographic lesion"),
          ("fracture", "fracture line"))


def first_fitting(*candidates: str) -> str:
    """The first candidate under the limit (the last one is made to fit)."""
    for text in candidates:
        if len(text) <= SUMMARY_MAX:
            return text
    return fit(candidates[-1])


def fit(text: str) -> str:
    """Keep a summary under the 140-character limit, cutting at a word."""
    text = " ".join(text.split())
    if len(text) <= SUMMARY_MAX:
        return text
    return text[: SUMMARY_MAX - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def md(text: str) -> str:
    """Text as Markdown shows it literally (no emphasis or code from report text)."""
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_").replace("`", "'")


def plain(text: str) -> str:
    """Our own words for the card: Markdown-safe, and any ISO date in the one date format
    of the card ("2026-11-17" -> "17 Nov 2026"; quotes are never rewritten)."""
    return md(_ISO.sub(lambda m: day(datetime(int(m[1]), int(m[2]), int(m[3]))), text))


def count_words(text: str) -> int:
    return len(text.split())


def quote(text: str | None, most: int, keep: str = "") -> str:
    """The report's own words, cut at a clause mark (else at a word) when longer than
    `most` words; the cut is marked with an ellipsis, so a quote is never reworded. The
    words `keep` (the term matched) stay in: a slightly longer sentence is quoted whole,
    a long one from the clause that holds them."""
    if not text:
        return ""
    words = text.split()
    if len(words) <= most:
        return f'*"{md(" ".join(words))}"*'
    head = " ".join(words[:most]).lower()
    if keep and keep.lower() in text.lower() and keep.lower() not in head:
        if len(words) <= most + 5:
            return f'*"{md(" ".join(words))}"*'
        at = text.lower().index(keep.lower())
        start = max(text.rfind(m, 0, at) for m in (",", ";", ":", "(")) + 1
        tail = text[start:].split()
        cut = tail[:most] if len(tail) > most else tail
        end = "…" if len(tail) > most else ""
        return f'*"…{md(" ".join(cut).rstrip(",;:"))}{end}"*'
    cut = words[:most]
    for i in range(len(cut) - 1, 3, -1):
        if cut[i].endswith((",", ";", ":")):
            cut = cut[: i + 1]
            break
    while len(cut) > 3 and cut[-1].lower() in _TRAILING:  # never end on "the…"
        cut.pop()
    return f'*"{md(" ".join(cut).rstrip(",;:"))}…"*'


def listing(items: Iterable[str], most: int, conj: str = "and") -> str:
    """ "a, b and c", or "a, b and 2 more" past `most` items (repeats dropped)."""
    unique = list(dict.fromkeys(i for i in items if i))
    shown = unique[:most] + ([f"{len(unique) - most} more"] if len(unique) > most else [])
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + f" {conj} " + shown[-1]


def of(reasons: Iterable[Reason], *kinds: str) -> list[Reason]:
    return [r for r in dict.fromkeys(reasons) if r.kind in kinds]


def laterality(reasons: Iterable[Reason], exam_side: str | None, ordered: str | None
               ) -> str | None:
    """The side the evidence shows: both hips when any finding is bilateral or findings
    lie on both sides; else the findings' side; else the exam's; else the order's. An
    MRI of both hips is not bilateral disease: the findings decide, not the exam."""
    sides = {r.side for r in reasons if r.side}
    if "bilateral" in sides or {"left", "right"} <= sides:
        return "bilateral"
    if sides:
        return sides.pop()
    if exam_side in ("left", "right"):
        return exam_side
    return ordered


def where(side: str | None) -> str:
    return {"left": "left hip", "right": "right hip", "bilateral": "both hips"}.get(
        side or "", "hip")


def sign_names(reasons: Iterable[Reason]) -> list[str]:
    """AVN sign terms in one spelling ("double line sign" -> "double-line sign"), the
    most telling first; generic names ("avascular necrosis") are left out."""
    order = [name for _, name in _SIGNS]
    names = set()
    for r in reasons:
        term = (r.label or r.short).lower()
        names.add(next((name for key, name in _SIGNS if key in term), ""))
    return sorted((n for n in names if n), key=order.index)


def decisive(reasons: list[Reason], side: str | None,
             prefer: Callable[[Reason], bool] = lambda r: True) -> Reason | None:
    """The finding to quote: a report sentence (not a code's display), `prefer`red, diffuse
    before focal, on the side the card names, then the shortest sentence."""
    quoted = [r for r in reasons if r.quote]
    if not quoted:
        return reasons[0] if reasons else None
    return min(quoted, key=lambda r: (r.quote == r.label or len((r.quote or "").split()) < 5,
                                      not prefer(r),
                                      not r.short.lower().startswith("diffuse"),
                                      bool(side and r.side and r.side != side),
                                      count_words(r.quote or "")))


def dated(reasons: Iterable[Reason]) -> str:
    """Items grouped by day: "13 Nov 2026: CRP 3.2 mg/L (lab limit 5), ESR 8 mm/h (...)"."""
    by_day: dict[str, list[str]] = {}
    for r in dict.fromkeys(reasons):
        by_day.setdefault(day(r.date), []).append(plain(r.short or r.text))
    return "; ".join(f"{d}: {', '.join(dict.fromkeys(items))}" if d != "undated" else
                     ", ".join(dict.fromkeys(items)) for d, items in by_day.items())


def bullet(head: str, body: str = "") -> str:
    """ "- **Head:** body"; nothing when there is no body (no empty bullet)."""
    if not body:
        return ""
    return f"- **{head}:** {body}" if head else f"- {body}"


def finding_bullet(r: Reason | None, side: str | None, caps: Caps, extra: list[str],
                   kind: str = "MRI") -> str:
    """ "**MRI 14 Nov 2026, left hip:** *"quote"*; read as transient osteoporosis"."""
    if r is None:
        return ""
    text = (r.quote or "").lower()
    keep = next((w for w in ("edema", "oedema") if r.kind == "edema" and w in text), r.label)
    said = quote(r.quote, caps.quote_words, keep) or plain(r.short)
    shown = said.lower()
    extra = [x for x in extra if x and x.split(":")[-1].strip().lower() not in shown]
    body = "; ".join([said, *extra])
    return bullet(f"{kind} {day(r.date)}, {where(side)}", body)


def absent_bullet(absent: list[Reason], cautions: list[Reason], caps: Caps) -> str:
    """One bullet for the AVN signs the report rules out, and any caution beside them:
    "**No AVN sign** on the report: no double-line sign, crescent sign or collapse"."""
    names = sign_names(absent)
    if names:
        text = f"- **No AVN sign:** no {listing(names, len(names), 'or')}"
    elif absent:
        text = "- **No AVN sign** on the report"
    else:
        text = "- **No AVN sign** reported (the report names none as absent)"
    if cautions:
        text += "; but " + listing((plain(c.short) for c in cautions), caps.items)
    return text


def clip(text: str, most: int) -> str:
    """At most `most` words, the cut marked (for text that is not a quote)."""
    words = text.split()
    return text if len(words) <= most else " ".join(words[:most]).rstrip(",;:") + "…"


def fit_words(build: Callable[[Caps], list[str]]) -> list[str]:
    """The bullets at the first level of caps within TARGET_WORDS, else within MAX_WORDS;
    past the last level every bullet is clipped (a bound no input can break)."""
    built: list[list[str]] = []  # levels built so far: most cards fit at the first

    def level(index: int) -> list[str]:
        while len(built) <= index:
            built.append([b for b in dict.fromkeys(build(LEVELS[len(built)])) if b][:MAX_BULLETS])
        return built[index]

    for limit in (TARGET_WORDS, MAX_WORDS):
        for index in range(len(LEVELS)):
            if count_words("\n".join(level(index))) <= limit:
                return level(index)
    bullets = level(len(LEVELS) - 1)
    clipped = [clip(b, CLIP_WORDS) for b in bullets]
    return [b + ("*" if b.count("*") % 2 else "") for b in clipped]
