"""Concept names, and the medspaCy rules built from the vocabulary files.

The words themselves live in `hooks/vocabulary/` (targets, modifiers, sections, word
forms) so that an informaticist can tune them; this module turns them into medspaCy
TargetRules, ConTextRules and SectionRules. medspaCy's default ConText rules are kept
except those `modifiers.toml` replaces (each replacement says why there).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from medspacy.context import ConTextRule
from medspacy.section_detection import SectionRule
from medspacy.target_matcher import TargetRule

from cds_service.clinical.vocabulary import Vocabulary

# Target concepts (labels of the entities the reader returns).
BME = "BME"  # bone marrow edema
EDEMA = "EDEMA"  # edema with no tissue named: BME when its site is a bone
SIGNAL = "SIGNAL"  # fluid-sensitive hyperintensity: BME with a sequence and a bone named
TOH = "TOH"  # transient osteoporosis / bone marrow edema syndrome and its names
AVN = "AVN"  # osteonecrosis and its imaging signs
SIF = "SIF"  # subchondral insufficiency fracture
SUBCHONDRAL_FRACTURE = "SUBCHONDRAL_FRACTURE"  # fracture line without "insufficiency"
STRESS_FRACTURE = "STRESS_FRACTURE"
TUMOUR = "TUMOUR"
INFECTION = "INFECTION"
EFFUSION = "EFFUSION"
THIN_LINE = "THIN_LINE"
CORE_DECOMPRESSION = "CORE_DECOMPRESSION"
IN_CONTEXT = frozenset({EDEMA, SIGNAL})  # read in context, never reported as they are

# Custom ConText categories.
RESOLVED = "RESOLVED"
IMPROVING = "IMPROVING"
DEGENERATIVE = "DEGENERATIVE"  # "degenerative erosions" are not infection
CLAUSE_END = "CLAUSE_END"  # a word that ends the scope of modifiers with `ends_at`
IGNORE = "IGNORE"  # words that look like a finding but are not ("risk factors for AVN")


def target_rules(vocabulary: Vocabulary) -> list[TargetRule]:
    """One literal rule per spelled-out phrase; `metadata["sign"]` names the sign."""
    return [TargetRule(spelling, term.concept, metadata={"sign": term.sign})
            for term in vocabulary.terms for spelling in term.spellings]


def _default_rules(replaced: frozenset[str]) -> list[ConTextRule]:
    import medspacy

    path = Path(medspacy.__file__).resolve().parents[1] / "resources" / "en" / "context_rules.json"
    raw = json.loads(path.read_text(encoding="utf-8"))["context_rules"]
    return [ConTextRule.from_dict(d) for d in raw if d["literal"] not in replaced]


def context_rules(vocabulary: Vocabulary) -> list[ConTextRule]:
    """medspaCy defaults (minus those replaced), then the vocabulary's modifiers."""
    rules = _default_rules(vocabulary.replaced_defaults)
    ends: dict[str, None] = {}
    for mod in vocabulary.modifiers:
        category = "PSEUDO" if mod.category in ("PSEUDO", "TERMINATE") else mod.category
        for spelling in mod.spellings:
            rules.append(ConTextRule(spelling, category, direction=mod.direction,
                                     max_scope=mod.max_scope,
                                     allowed_types=set(mod.allowed) if mod.allowed else None,
                                     terminated_by={CLAUSE_END} if mod.ends_at else None))
        ends.update(dict.fromkeys(mod.ends_at))
    # A clause end modifies nothing (it may only modify IGNORE, which is never reported):
    # it is there to end the scopes of the modifiers that name it.
    rules += [ConTextRule(word, CLAUSE_END, direction="FORWARD", max_scope=1,
                          allowed_types={IGNORE}) for word in ends]
    return rules


def section_rules(vocabulary: Vocabulary) -> list[SectionRule]:
    """Four regex rules per section kind: a heading and a colon anywhere, a heading
    alone on its line, a heading in capitals at the start of a line followed by text
    that is not in capitals ("IMPRESSION Diffuse edema", not "HISTORY OF AVN"), and a
    capitalised heading at the start of a line followed by a capital or a question mark
    ("Findings No AVN", "Indication ?AVN", not "History of AVN").
    A fourth, generic rule takes any other short capitalised label and colon at the
    start of a line ("Right hip:", "Bones:") so that it ends the section before it."""
    rules: list[SectionRule] = []
    known: list[str] = []
    for kind in vocabulary.sections:
        words = sorted(kind.headings, key=len, reverse=True)
        known += words
        alt = "|".join(_heading_regex(w) for w in words)
        upper = "|".join(_heading_regex(w.upper()) for w in words)
        title = "|".join(_heading_regex(w[:1].upper() + w[1:]) for w in words)
        for pattern in (
            rf"\b(?:{alt})[ \t]*:",
            rf"(?m)^[ \t]*(?:[-*•][ \t]*)?(?:{alt})[ \t]*$",
            rf"(?m)^[ \t]*(?-i:(?:{upper}))(?=[ \t]+(?-i:[A-Z]?[a-z0-9?]))",
            rf"(?m)^[ \t]*(?-i:(?:{title}))(?=[ \t]+(?-i:[A-Z?]))",
        ):
            rules.append(SectionRule(kind.category, kind.category, pattern=pattern))
    not_known = "|".join(_heading_regex(w) for w in sorted(known, key=len, reverse=True))
    rules.append(SectionRule(
        "subheading", "subheading",
        pattern=rf"(?m)^[ \t]*(?:[-*•][ \t]*)?(?!(?:{not_known})[ \t]*:)"
                r"(?-i:[A-Z])[A-Za-z/&' -]{0,30}[A-Za-z)][ \t]*:(?=[ \t\n]|$)"))
    return rules


def _heading_regex(words: str) -> str:
    return r"[ \t]+".join(re.escape(w) for w in words.split())
