"""Anatomical site and laterality, from text and from SNOMED codings.

Joints matter for two decisions: the MRI must be of the ordered hip (side included), and
the migratory pattern is edema moving to *another* joint (other hip, knee, ankle, foot).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

# Site words, most specific first; each maps to its joint.
_SITE_PATTERNS: tuple[tuple[str, str, str], ...] = (
    ("femoral head", "hip", r"femoral\s+heads?|head\s+of\s+(the\s+)?(left\s+|right\s+)?femur"),
    ("femoral neck", "hip", r"femoral\s+necks?|neck\s+of\s+(the\s+)?(left\s+|right\s+)?femur"),
    ("proximal femur", "hip", r"proximal\s+femur|intertrochanteric|trochanter\w*"),
    ("acetabulum", "hip", r"acetabul\w*"),
    ("hip", "hip", r"hips?"),
    ("pelvis", "pelvis", r"pelvis|pelvic"),
    ("knee", "knee", r"knees?|femoral\s+condyles?|tibial\s+plateau|patella\w*"),
    ("talus", "ankle", r"talus|talar|tali"),
    ("ankle", "ankle", r"ankles?|tibiotalar"),
    ("foot", "foot", r"foot|feet|calcane\w*|navicular|cuboid|cuneiform\w*|metatars\w*"),
)
_SITE_RE = [(name, joint, re.compile(rf"\b({pat})\b", re.IGNORECASE))
            for name, joint, pat in _SITE_PATTERNS]
JOINT_OF = {name: joint for name, joint, _ in _SITE_PATTERNS}
HEAD_NECK = {"femoral head", "femoral neck", "proximal femur", "hip"}

_SIDE_RE = re.compile(
    r"\b(left|right|bilateral|bilaterally|lt|rt|"
    r"both(?=\s+(?:hips|femoral|sides|knees|ankles|feet|tali)))\b",
    re.IGNORECASE,
)
_SIDE_WORD = {"left": "left", "lt": "left", "right": "right", "rt": "right",
              "bilateral": "bilateral", "bilaterally": "bilateral", "both": "bilateral"}

SNOMED = "http://snomed.info/sct"
# SNOMED laterality qualifiers: left 7771000, right 24028007, bilateral 51440002.
LATERALITY_CODES = {"7771000": "left", "24028007": "right", "51440002": "bilateral"}
# SNOMED body structures from clinical.md (verified or listed there).
SITE_CODES = {
    "29836001": "hip", "24136001": "hip", "2812003": "femoral head",
    "29627003": "femoral neck", "70258002": "ankle", "72696002": "knee",
    "56459004": "foot", "67453005": "talus", "12921003": "pelvis",
}


def _nearest(matches: Iterable[tuple[int, int, str]], offset: int) -> str | None:
    best: tuple[int, str] | None = None
    for start, end, value in matches:
        distance = 0 if start <= offset < end else min(abs(start - offset), abs(end - offset))
        if best is None or distance < best[0]:
            best = (distance, value)
    return best[1] if best else None


_FOLLOWS = re.compile(
    r"^[^.;]{0,60}?\b(in|of|involving|within|throughout|at|affecting|to)\b[^.;]{0,25}$",
    re.IGNORECASE,
)


def nearest_site(text: str, offset: int = 0, end: int | None = None) -> str | None:
    """The site of a finding at text[offset:end]: the first site after it when a
    preposition leads there ("edema in the left femoral head"), else the closest one."""
    found = _site_matches(text)
    if end is not None:
        after = [f for f in found if f[0] >= end and _FOLLOWS.match(text[end:f[0]])]
        if after:
            return min(after)[2]
    return _nearest(found, offset)


@lru_cache(maxsize=4096)
def _site_matches(text: str) -> tuple[tuple[int, int, str], ...]:
    """Site words in a text (cached: every mention of a sentence asks for its sites)."""
    found: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for name, _joint, regex in _SITE_RE:
        for m in regex.finditer(text):
            if any(a <= m.start() < b for a, b in taken):
                continue  # "femoral head" already claimed these words
            taken.append((m.start(), m.end()))
            found.append((m.start(), m.end(), name))
    return tuple(found)


def nearest_side(text: str, offset: int = 0) -> str | None:
    """The laterality word closest to `offset` ("both hips" -> bilateral), or None."""
    return _nearest(((m.start(), m.end(), _SIDE_WORD[m.group(1).lower()])
                     for m in _SIDE_RE.finditer(text)), offset)


def sites_in(text: str) -> set[str]:
    """Every site named in a text."""
    return {name for name, _joint, regex in _SITE_RE if regex.search(text or "")}


def side_of_text(text: str | None) -> str | None:
    """A single laterality for a short label ("MR hip left"); both sides -> bilateral."""
    sides = {_SIDE_WORD[m.group(1).lower()] for m in _SIDE_RE.finditer(text or "")}
    if "bilateral" in sides or {"left", "right"} <= sides:
        return "bilateral"
    return next(iter(sides), None)


def joint_of(site: str | None) -> str | None:
    return JOINT_OF.get(site) if site else None


def side_of_codings(codes: Iterable[tuple[str | None, str | None, str | None]]) -> str | None:
    """Laterality from (system, code, display/text) triples: qualifier code or words."""
    sides: set[str] = set()
    for system, code, text in codes:
        if system in (SNOMED, None) and code in LATERALITY_CODES:
            sides.add(LATERALITY_CODES[code])
        side = side_of_text(text)
        if side:
            sides.add(side)
    if "bilateral" in sides or {"left", "right"} <= sides:
        return "bilateral"
    return next(iter(sides), None)


def site_of_codings(codes: Iterable[tuple[str | None, str | None, str | None]]) -> str | None:
    """Body site from SNOMED codes, else from display/text words."""
    texts = []
    for system, code, text in codes:
        if system in (SNOMED, None) and code in SITE_CODES:
            return SITE_CODES[code]
        if text:
            texts.append(text)
    return nearest_site(" ".join(texts)) if texts else None


def sides_overlap(a: str | None, b: str | None) -> bool:
    """Do two lateralities overlap? Unknown overlaps anything; bilateral overlaps both."""
    if a is None or b is None or a == b:
        return True
    return "bilateral" in (a, b)


def covers_hip(site: str | None) -> bool:
    """Does an exam of this site show the hip (a pelvis MRI shows both hips)?"""
    return joint_of(site) in ("hip", "pelvis")
