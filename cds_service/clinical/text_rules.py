"""Concept names, and the medspaCy rules built from the vocabulary files.

The words themselves live in `hooks/vocabulary/` (targets, modifiers, sections, word
forms) so that an informaticist can tune them; this module turns them into medspaCy
TargetRules and ConTextRules (headings: sections.py). medspaCy's default ConText rules are kept
except those `modifiers.toml` replaces (each replacement says why there).
"""

from __future__ import annotations

import json
from importlib.metadata import files

from medspacy.context import ConTextRule
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
IGNORE = "IGNORE"  # words that look like a finding but are not ("risk factors for AVN")


def target_rules(vocabulary: Vocabulary) -> list[TargetRule]:
    """One literal rule per spelled-out phrase; `metadata["sign"]` names the sign."""
    return [TargetRule(spelling, term.concept, metadata={"sign": term.sign})
            for term in vocabulary.terms for spelling in term.spellings]


# medspaCy installs its rule files as a top-level `resources/` folder beside its package,
# not inside it, so they are no package resource (`importlib.resources.files("resources")`
# would be any namespace package of that name); the distribution's own file list names it.
DEFAULT_CONTEXT_RULES = "resources/en/context_rules.json"


def _default_rules(replaced: frozenset[str]) -> list[ConTextRule]:
    found = [f for f in files("medspacy") or () if f.as_posix() == DEFAULT_CONTEXT_RULES]
    if not found:
        raise RuntimeError(f"medspaCy's installation lists no {DEFAULT_CONTEXT_RULES}")
    raw = json.loads(found[0].read_text(encoding="utf-8"))["context_rules"]
    return [ConTextRule.from_dict(d) for d in raw if d["literal"] not in replaced]


def context_rules(vocabulary: Vocabulary) -> list[ConTextRule]:
    """medspaCy defaults (minus those replaced), then the vocabulary's modifiers."""
    rules = _default_rules(vocabulary.replaced_defaults)
    for mod in vocabulary.modifiers:
        category = "PSEUDO" if mod.category in ("PSEUDO", "TERMINATE") else mod.category
        for spelling in mod.spellings:
            rules.append(ConTextRule(spelling, category, direction=mod.direction,
                                     max_scope=mod.max_scope,
                                     allowed_types=set(mod.allowed) if mod.allowed else None,
                                     metadata={"ends_at": mod.ends_at} if mod.ends_at else None))
    return rules
