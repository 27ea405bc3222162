"""Anatomical site and laterality, from text and from SNOMED codings.

Joints matter for two decisions: the MRI must be of the ordered hip (side included), and
the migratory pattern is edema moving to *another* joint (other hip, knee, ankle, foot).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from cds_service.clinical.regex_dispatch import group_index, guarded

PELVIC_BONE = "pelvic bone"
# Site words, most specific first; each maps to its joint.
_SITE_PATTERNS: tuple[tuple[str, str | None, str], ...] = (
    ("femoral head", "hip", (r"femoral\s+heads?|head\s+of\s+(the\s+)?(left\s+|right\s+)?femur|"
                             r"(?-i:FHs?)|onfh")),
    ("femoral neck", "hip", (r"femoral\s+necks?|neck\s+of\s+(the\s+)?(left\s+|right\s+)?femur|"
                             r"(?-i:FNs?)")),
    ("proximal femur", "hip", (r"proximal\s+((left|right)\s+)?femur|intertrochanteric|trochanter\w*|"
                               r"proximal\s+femora|subtrochanteric")),
    ("acetabulum", "hip", r"acetabul\w*"),
    ("hip", "hip", r"hips?"),
    ("pelvis", "pelvis", r"pelvis|pelvic"),
    # Bones of the pelvic ring other than the acetabulum: no joint of their own here. An
    # exam or edema there is not of the hip (a lumbar MRI that mentions the sacroiliac
    # joints is no hip MRI) and not another joint of the migratory pattern.
    (PELVIC_BONE, None, (r"ilium|iliac\s+(bone|wing)s?|ischium|ischial|pubic(\s+ram\w*)?|pubis|"
                         r"sacrum|sacral|sacroiliac|sacroiliitis|iliacus|iliac")),
    ("knee", "knee", (r"knees?|(medial\s+|lateral\s+)?(femoral\s+)?condyles?|tibial\s+plateaus?|"
                      r"patella\w*|prepatellar|infrapatellar|distal\s+femor\w*|distal\s+femur|"
                      r"proximal\s+tibi\w*")),
    ("talus", "ankle", r"talus|talar|tali"),
    ("ankle", "ankle", (r"ankles?|tibiotalar|malleol\w*|(tibial\s+)?plafond|distal\s+tibi\w*|"
                        r"distal\s+fibula\w*")),
    ("foot", "foot", (r"foot|feet|calcane\w*|navicular|cuboid|cuneiform\w*|metatars\w*|toes?|"
                      r"hallux|phalan\w*|plantar|mtp")),
)
_SITE_RE = [(name, joint, re.compile(rf"\b({pat})\b", re.IGNORECASE))
            for name, joint, pat in _SITE_PATTERNS]
JOINT_OF = {name: joint for name, joint, _ in _SITE_PATTERNS}
HEAD_NECK = {"femoral head", "femoral neck", "proximal femur", "hip"}

_SIDE_RE = re.compile(
    r"\b(left|right|bilateral|bilaterally|lt|rt|"
    r"both(?=\s+(?:the\s+)?(?:hips|femoral|sides|knees|ankles|feet|tali|proximal|distal|"
    r"joints|medial|lateral|iliac|sacroiliac))|"
    r"(?:n?either)(?=\s+(?:hip|femoral|side|knee|ankle|foot|talus|joint))|"
    r"(?-i:[LR]\s*[>=<]\s*[LR])|(?<=the\s)(?-i:[LR])(?=\s*[.,;)]|\s*$)|"
    r"(?-i:[RL])(?=\.?\s+(?i:hip|femoral|knee|ankle|foot|talus|acetabul|femur|proximal|FH|FN|\d(?:st|nd|rd|th))))\b",
    re.IGNORECASE,
)
_SIDE_WORD = {"left": "left", "lt": "left", "right": "right", "rt": "right",
              "bilateral": "bilateral", "bilaterally": "bilateral", "both": "bilateral",
              "l": "left", "r": "right", "either": "bilateral", "neither": "bilateral"}


def side_word(word: str) -> str:
    """"L>R" (both sides, one more than the other) is bilateral."""
    return "bilateral" if any(c in word for c in "><=") else _SIDE_WORD[word.lower()]


# Plural joints name both sides ("Hips: no effusion", "the femoral heads are spherical").
_PLURAL_RE = re.compile(r"\b(hips|femoral\s+heads|femoral\s+necks|knees|femora|FHs)\b",
                        re.IGNORECASE)
# Soft tissues and fluid: high signal or edema there is not bone marrow edema.
_SOFT_RE = re.compile(
    r"\b(?=\w)(bursa[el]?|bursitis|tendons?|tendin\w*|tendon\w*|muscles?|muscular|musculature|"
    r"gluteus|gluteal|gluteals|iliopsoas|psoas|adductors?|abductors?|obturator|piriformis|"
    r"quadratus|hamstrings?|quadriceps|vastus|rectus|sartorius|tensor|gracilis|soleus|"
    r"gastrocnemi\w*|thigh|calf|buttock|groin|soft[- ]tissues?|subcutaneous|subcutis|skin|fascia\w*|"
    r"fat\s+pad|fluid|effusions?|labr(um|al)|capsul\w*|synovi\w*|ligament\w*|cartilage|"
    r"chondral|periarticular|pericapsular|peritrochanteric|intramuscular|myositis|"
    r"enthes\w*|cyst|paralabral)\b",
    re.IGNORECASE,
)

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
    r"^[^.;]{0,60}?\b(in|of|involving|within|throughout|at|affecting|to|along)\b[^.;]{0,25}$",
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


# All sites in one expression, most specific first: one pass over a text finds them.
# (`\b(?=\w)` first: the alternatives are tried only where a word starts, 3x faster;
# each site behind a lookahead of its first letters: 2x faster again, see regex_dispatch.)
_ANY_SITE = re.compile(r"\b(?=\w)(?:" + "|".join(
    guarded(rf"(?P<s{i}>\b(?:{pat})\b)", re.IGNORECASE)
    for i, (_, _, pat) in enumerate(_SITE_PATTERNS)) + ")", re.IGNORECASE)
_SITE_NAMES = [name for name, _, _ in _SITE_PATTERNS]


@lru_cache(maxsize=4096)
def _site_matches(text: str) -> tuple[tuple[int, int, str], ...]:
    """Site words in a text, in order (cached: every mention of a sentence asks)."""
    return tuple((m.start(), m.end(), _SITE_NAMES[group_index(m)])
                 for m in _ANY_SITE.finditer(text))


@lru_cache(maxsize=4096)
def _soft_matches(text: str) -> tuple[tuple[int, int, str, bool], ...]:
    return tuple((m.start(), m.end(), m.group(1).lower(), True) for m in _SOFT_RE.finditer(text))


_LIST_GAP = re.compile(
    r"^\s*(,|and|&|,\s*and|as well as)\s+(the\s+)?((left|right|lt|rt|both)\s+)?$", re.IGNORECASE)


def listed_sites(text: str, end: int) -> list[tuple[int, int, str]]:
    """The sites a finding at text[..end] is said to be in, when they come as a list
    after it: "oedema of the left femoral head, right distal femur and right talus"."""
    found = sorted(_site_matches(text))
    after = [f for f in found if f[0] >= end and _FOLLOWS.match(text[end:f[0]])]
    if not after:
        return []
    listed = [min(after)]
    for site in found:
        if site[0] > listed[-1][0] and _LIST_GAP.match(text[listed[-1][1]:site[0]]):
            listed.append(site)
    return listed


def site_matches(text: str) -> tuple[tuple[int, int, str], ...]:
    """(start, end, site) of every site word in a text, in no particular order."""
    return _site_matches(text)


_JOINT_GAP = re.compile(r"\s+(joint\s+)?")
_ADJACENT = re.compile(r"^[\s-]*([a-z0-9]+[\s-]+){0,3}$", re.IGNORECASE)  # <= 3 words between
_RELATIVE = re.compile(r"\b(anterior|posterior|adjacent|lateral|medial|superior|inferior|deep|"
                       r"superficial|close|next|proximal|distal)\s+to\b", re.IGNORECASE)
_SIDE_AFTER = re.compile(r"^\s*(?:in|of|on|at|involving)\s+the\s+(left|right)\b", re.IGNORECASE)


def nearest_place(text: str, offset: int, end: int) -> tuple[str | None, bool]:
    """The place a finding at text[offset:end] is in, and whether it is soft tissue or
    fluid rather than bone: the first place after it that a preposition leads to ("high
    signal in the trochanteric bursa"), else the closest place."""
    soft = _soft_matches(text)
    soft_starts = {a for a, _, _, _ in soft}
    # a bone word that qualifies a soft tissue ("trochanteric bursa", "hip joint fluid")
    # names the soft tissue's place, not a bone finding
    places = [(a, b, name, _qualifies_soft(text, b, soft_starts))
              for a, b, name in _site_matches(text)]
    places += list(soft)
    after = [p for p in places if p[0] >= end and _FOLLOWS.match(text[end:p[0]])
             and not _RELATIVE.search(text[end:p[0]])]
    if after:
        chosen = min(after)
        return chosen[2], chosen[3]
    # a soft tissue named just before it qualifies it ("soft tissue oedema",
    # "effusion with high signal")
    if any(b <= offset and _ADJACENT.match(text[b:offset]) for _, b, _, _ in soft):
        return None, True
    bones = [p for p in places if not p[3]]  # elsewhere, only a bone is its place
    if not bones:
        return None, bool(soft)
    chosen = min(bones, key=lambda p: 0 if p[0] <= offset < p[1] else min(
        abs(p[0] - offset), abs(p[1] - offset), abs(p[0] - end), abs(p[1] - end)))
    return chosen[2], False


def _qualifies_soft(text: str, end: int, soft_starts: set[int]) -> bool:
    """Is the word after text[:end] (past a "joint") a soft tissue?"""
    m = _JOINT_GAP.match(text, end)
    return m is not None and m.end() in soft_starts


@lru_cache(maxsize=4096)
def _sides(text: str) -> tuple[tuple[int, int, str], ...]:
    """Side words in a text (cached: every mention of a sentence asks for its sides)."""
    found = [(m.start(), m.end(), side_word(m.group(1)))
             for m in _SIDE_RE.finditer(text)]
    return tuple(found + [(m.start(), m.end(), "bilateral") for m in _PLURAL_RE.finditer(text)])


def sides_near(text: str, start: int, end: int) -> str | None:
    """The laterality of a site word at text[start:end]: the side word just before it
    ("left femoral head"), else the closest one."""
    sides = _sides(text)
    before = [s for s in sides if s[1] <= start and start - s[1] <= 12]
    if before:
        return max(before)[2]
    return _nearest(sides, start)


def nearest_side(text: str, offset: int = 0, end: int | None = None) -> str | None:
    """The laterality of a finding at text[offset:end]: that of the site a preposition
    leads to after it ("edema of the left femoral head"), else the side word closest to
    it ("both hips" -> bilateral), or None."""
    if end is not None:
        named = _SIDE_AFTER.match(text[end:end + 30])
        if named:
            return named.group(1).lower()
        after = [f for f in _site_matches(text) if f[0] >= end and _FOLLOWS.match(text[end:f[0]])]
        if after:
            first = min(after)
            side = sides_near(text, first[0], first[1])
            if side is not None:
                return side
    return _nearest(_sides(text), offset)


def sites_in(text: str) -> set[str]:
    """Every site named in a text."""
    return {name for name, _joint, regex in _SITE_RE if regex.search(text or "")}


def side_of_text(text: str | None) -> str | None:
    """A single laterality for a short label ("MR hip left"); both sides -> bilateral."""
    sides = {side_word(m.group(1)) for m in _SIDE_RE.finditer(text or "")}
    if "bilateral" in sides or {"left", "right"} <= sides:
        return "bilateral"
    return next(iter(sides), None)


def joint_of(site: str | None) -> str | None:
    return JOINT_OF.get(site) if site else None


def region_of(site: str | None) -> str | None:
    """The joint, or "pelvis" for the other pelvic bones: how `cds-service read` names
    where a finding is (a pelvic bone has no joint in the decision)."""
    return "pelvis" if site == PELVIC_BONE else joint_of(site)


def same_region(a: str | None, b: str | None) -> bool:
    """Joints imaged together: an ankle MRI shows the hindfoot (talus and navicular), so a
    foot finding on it has the ankle's side (episodes.py: one ankle/foot episode)."""
    return a == b or {a, b} == {"ankle", "foot"}


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
