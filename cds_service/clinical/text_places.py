"""One finding, several places: a finding said to have moved from one joint to another,
denied on the other side, or listed at several sites ("Edema has migrated from the left
hip to the right knee", "Edema in the left hip but none in the right", "oedema of the
left femoral head, right distal femur and right talus").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from cds_service.clinical import text_rules as tr
from cds_service.clinical.anatomy import joint_of, listed_sites, side_word, sides_near, site_matches
from cds_service.clinical.mention import Mention

# "has migrated from the left hip to the right knee", "has resolved in the right hip and
# is now present in the talus": over at the first site, present at the second.
_MIGRATED = re.compile(
    r"\b(migrat\w*|moved|shift\w*|spread|transferred|relocated|resolved|cleared)\b"
    r"[^.;]{0,20}?\b(from|in|at)\b", re.IGNORECASE)
_SECOND_SITE = re.compile(r"\b(to|now|and is|and now|but|with new|new)\b", re.IGNORECASE)
# "Edema in the left hip but none in the right": the same finding denied on the other side
_OTHER_SIDE = re.compile(
    r"\b(?:none|no(?:\s+[\w-]+){0,3}?|not(?:\s+seen)?|normal)\s+(?:(?:is\s+)?seen\s+)?"
    r"(?:in|on|at|of)\s+the\s+(?:\w+\s+){0,2}?(left|right|lt|rt|l|r)\b", re.IGNORECASE)


def at_each_place(mention: Mention, sentence: str, end: int) -> Iterator[Mention]:
    """The mention once per place the sentence puts it (usually just once)."""
    for one in _migration(mention, sentence, end):
        yield one
        yield from _other_side(one, sentence, end)
        yield from _other_sites(one, sentence, end)


def _other_sites(mention: Mention, sentence: str, end: int) -> Iterator[Mention]:
    """The same finding at each further site of a list ("... of the talus and navicular")."""
    listed = listed_sites(sentence, end)
    seen = {(joint_of(mention.site), mention.side)}
    for start, stop, site in listed[1:]:
        side = sides_near(sentence, start, stop) if start else None
        key = (joint_of(site), side or mention.side)
        if key not in seen:
            seen.add(key)
            yield replace(mention, site=site, side=side or mention.side)


def _other_side(mention: Mention, sentence: str, end: int) -> Iterator[Mention]:
    """"Edema in the left hip but none in the right": denied on the other side too."""
    if not mention.affirmed or mention.side not in ("left", "right"):
        return
    m = _OTHER_SIDE.search(sentence, end)
    if m is None:
        return
    side = side_word(m.group(1))
    if side != mention.side:
        yield replace(mention, side=side, negated=True)


def _migration(mention: Mention, sentence: str, end: int) -> Iterator[Mention]:
    """"Edema has migrated from the left hip to the right knee": the episode at the first
    site is over (resolved there) and present at the second."""
    moved = _MIGRATED.search(sentence, end)
    if mention.concept not in (tr.BME, tr.TOH) or moved is None or mention.negated:
        yield mention
        return
    places = sorted(p for p in site_matches(sentence) if p[0] >= moved.end() - 4)
    second = _SECOND_SITE.search(sentence, places[0][1]) if places else None
    before = [p for p in places if second is None or p[0] < second.start()]
    after = [p for p in places if second is not None and p[0] > second.start()]
    if not before or not after:
        yield mention
        return
    (a_start, a_end, a_site), (b_start, b_end, b_site) = before[0], after[0]
    yield replace(mention, site=a_site, side=sides_near(sentence, a_start, a_end),
                  resolved=True)
    yield replace(mention, site=b_site, side=sides_near(sentence, b_start, b_end),
                  resolved=False)
