"""Vocabulary for reading radiology text: target phrases and ConText modifiers.

Synonyms follow clinical.md (oedema/edema, BMES, TOH, TMO, RMO, TBME, algodystrophy...).
medspaCy's default ConText rules are kept except five that misread radiology English:
"can not" as negation ("cannot exclude AVN" means AVN is possible), "suggestive of" as
uncertainty (radiologists use it to affirm: "suggestive of diffuse edema"),
"resolved"/"now resolved" as negation (resolution is its own category here: a resolved
edema is evidence of a transient episode, not an absent one) and "because/since" as the
end of every modifier's scope ("edema, which has since resolved").
"""

from __future__ import annotations

import json
from pathlib import Path

from medspacy.context import ConTextRule
from medspacy.target_matcher import TargetRule

# Target concepts (labels of the entities the reader returns).
BME = "BME"  # bone marrow edema
SIGNAL = "SIGNAL"  # fluid-sensitive hyperintensity: BME when the sentence names a sequence
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

# Custom ConText categories.
RESOLVED = "RESOLVED"
IMPROVING = "IMPROVING"

_EDEMA = {"LOWER": {"IN": ["edema", "oedema", "œdema"]}}
_OPT_HYPHEN = {"ORTH": "-", "OP": "?"}


def _words(*words: str) -> list[dict]:
    return [{"LOWER": w} for w in words]


def target_rules() -> list[TargetRule]:
    """Phrases for every concept the decision reads (matched case-insensitively)."""
    r: list[TargetRule] = []

    def add(label: str, literal: str, pattern: list[dict] | None = None) -> None:
        r.append(TargetRule(literal, label, pattern=pattern or _words(*literal.split())))

    # Bone marrow edema
    add(BME, "bone marrow edema", [{"LOWER": "bone"}, {"LOWER": "marrow"}, _EDEMA,
                                   {"LOWER": {"IN": ["pattern", "signal"]}, "OP": "?"}])
    add(BME, "marrow edema", [{"LOWER": "marrow"}, _EDEMA])
    add(BME, "bone edema", [{"LOWER": {"IN": ["bone", "osseous", "subchondral", "medullary"]}},
                            _EDEMA])
    add(BME, "edema-like marrow signal", [_EDEMA, _OPT_HYPHEN, {"LOWER": "like"},
                                          {"LOWER": "marrow"}, {"LOWER": "signal"}])
    add(BME, "diffuse edema", [{"LOWER": "diffuse"}, _EDEMA])
    for abbr in ("bme", "bmo"):
        add(BME, abbr, [{"LOWER": abbr}])
    # Fluid-sensitive hyperintensity (seed 2: "STIR ... hyperintense signal in the femoral head")
    add(SIGNAL, "hyperintense signal", [{"LOWER": {"IN": ["hyperintense", "high", "increased"]}},
                                        {"LOWER": "signal"}, {"LOWER": "intensity", "OP": "?"}])
    add(SIGNAL, "t2 hyperintensity", [{"LOWER": {"IN": ["t2", "stir"]}}, _OPT_HYPHEN,
                                      {"LOWER": {"IN": ["hyperintensity", "hyperintense"]}}])
    # Transient osteoporosis and its many names
    for phrase in (
        "transient osteoporosis", "transient osteopenia", "transient demineralization",
        "transient regional osteoporosis", "regional migratory osteoporosis",
        "transient migratory osteoporosis", "migratory osteoporosis", "algodystrophy",
        "shifting bme",
    ):
        add(TOH, phrase)
    add(TOH, "transient bone marrow edema", [{"LOWER": "transient"}, {"LOWER": "bone"},
                                             {"LOWER": "marrow"}, _EDEMA,
                                             {"LOWER": "syndrome", "OP": "?"}])
    add(TOH, "bone marrow edema syndrome", [{"LOWER": "bone"}, {"LOWER": "marrow"}, _EDEMA,
                                            {"LOWER": "syndrome"}])
    add(TOH, "shifting bone marrow edema", [{"LOWER": "shifting"}, {"LOWER": "bone"},
                                            {"LOWER": "marrow"}, _EDEMA])
    for abbr in ("toh", "tmo", "rmo", "tbme", "bmes", "tbmes"):
        add(TOH, abbr, [{"LOWER": abbr}])
    # Avascular necrosis and its signs
    for phrase in (
        "avascular necrosis", "osteonecrosis", "aseptic necrosis", "ischemic necrosis",
        "ischaemic necrosis", "bone infarct", "bone infarction", "crescent sign",
        "subchondral collapse", "articular collapse", "femoral head collapse",
        "collapse of the femoral head", "subchondral flattening", "femoral head flattening",
        "flattening of the femoral head", "serpiginous band", "serpiginous line",
        "serpiginous rim", "geographic lesion", "demarcated focal lesion",
        "well demarcated lesion", "sharply demarcated lesion", "focal demarcated lesion",
    ):
        add(AVN, phrase)
    add(AVN, "double line sign", [{"LOWER": "double"}, _OPT_HYPHEN, {"LOWER": "line"},
                                  {"LOWER": "sign"}])
    add(AVN, "well-demarcated lesion", [{"LOWER": {"IN": ["well", "sharply"]}}, {"ORTH": "-"},
                                        {"LOWER": "demarcated"}, {"LOWER": "focal", "OP": "?"},
                                        {"LOWER": {"IN": ["lesion", "area", "segment"]}}])
    add(AVN, "serpiginous low signal band", [{"LOWER": "serpiginous"}, {"LOWER": "low"},
                                             _OPT_HYPHEN, {"LOWER": "signal"},
                                             {"LOWER": {"IN": ["band", "line", "rim"]}}])
    for abbr in ("avn", "onfh"):
        add(AVN, abbr, [{"LOWER": abbr}])
    # Fractures: "insufficiency" decides SIF; a bare subchondral fracture is read in context
    add(SIF, "subchondral insufficiency fracture")
    add(SIF, "insufficiency fracture")
    for abbr in ("sif", "siffh"):
        add(SIF, abbr, [{"LOWER": abbr}])
    add(SUBCHONDRAL_FRACTURE, "subchondral fracture",
        [{"LOWER": "subchondral"}, {"LOWER": "stress", "OP": "?"},
         {"LOWER": {"IN": ["fracture", "fractures"]}}, {"LOWER": "line", "OP": "?"}])
    add(SUBCHONDRAL_FRACTURE, "band convex", [{"LOWER": "band"}, {"LOWER": "convex"}])
    for phrase in ("stress fracture", "fatigue fracture", "fracture line", "fracture"):
        add(STRESS_FRACTURE, phrase)
    add(STRESS_FRACTURE, "stress fractures", _words("stress", "fractures"))
    # Tumour / marrow infiltration
    for phrase in (
        "tumour", "tumor", "neoplasm", "neoplastic", "metastasis", "metastases",
        "metastatic disease", "metastatic deposit", "marrow infiltration", "infiltrative",
        "marrow replacement", "lymphoma", "myeloma", "malignancy", "lytic lesion",
    ):
        add(TUMOUR, phrase)
    # Infection
    for phrase in (
        "septic arthritis", "septic joint", "infective arthritis", "infectious arthritis",
        "pyogenic arthritis", "tuberculous arthritis", "osteomyelitis", "abscess",
        "erosion", "erosions", "erosive", "collection", "fluid collection", "infection",
        "sinus tract", "sequestrum",
    ):
        add(INFECTION, phrase)
    # Effusion, thin subchondral line, core decompression
    add(EFFUSION, "effusion", [{"LOWER": "joint", "OP": "?"}, {"LOWER": "effusion"}])
    add(THIN_LINE, "thin subchondral line", [{"LOWER": "thin"}, {"LOWER": "low", "OP": "?"},
                                             _OPT_HYPHEN, {"LOWER": "signal", "OP": "?"},
                                             {"LOWER": "subchondral"}, {"LOWER": "line"}])
    add(THIN_LINE, "subchondral line")
    add(CORE_DECOMPRESSION, "core decompression", [{"LOWER": "core"}, _OPT_HYPHEN,
                                                   {"LOWER": "decompression"}])
    add(CORE_DECOMPRESSION, "decompression tract", [{"LOWER": {"IN": ["decompression", "core",
                                                                      "drill"]}},
                                                    {"LOWER": {"IN": ["tract", "track"]}}])
    return r


_REPLACED_DEFAULTS = {"was not", "suggestive of", "resolved", "now resolved", "because"}


def _default_rules() -> list[ConTextRule]:
    import medspacy

    path = Path(medspacy.__file__).resolve().parents[1] / "resources" / "en" / "context_rules.json"
    raw = json.loads(path.read_text(encoding="utf-8"))["context_rules"]
    kept = [d for d in raw if d["literal"] not in _REPLACED_DEFAULTS]
    return [ConTextRule.from_dict(d) for d in kept]


def context_rules() -> list[ConTextRule]:
    """medspaCy defaults (minus the five replaced) plus radiology phrasings."""
    rules = _default_rules()

    def add(literal: str, category: str, direction: str, pattern=None, max_scope=None) -> None:
        rules.append(ConTextRule(literal, category, pattern=pattern, direction=direction,
                                 max_scope=max_scope))

    neg, pos, hist = "NEGATED_EXISTENCE", "POSSIBLE_EXISTENCE", "HISTORICAL"
    # "was not" without "can": "cannot"/"can not" introduces uncertainty below
    add("is not", neg, "FORWARD", [{"LOWER": {"IN": ["was", "is", "are", "were"]}},
                                   {"LOWER": {"IN": ["not", "n't"]}}])
    for literal in ("negative for", "no signs of", "no sign of", "free of", "no features of",
                    "no radiological evidence of", "no mri evidence of"):
        add(literal, neg, "FORWARD")
    add("not seen", neg, "BACKWARD", [{"LOWER": {"IN": ["is", "are", "was", "were"]}, "OP": "?"},
                                      {"LOWER": "not"},
                                      {"LOWER": {"IN": ["seen", "identified", "demonstrated",
                                                        "present", "evident", "visualized"]}}])
    add("absent", neg, "BACKWARD", [{"LOWER": {"IN": ["is", "are"]}, "OP": "?"},
                                    {"LOWER": "absent"}])
    # Uncertainty the defaults miss: "AVN cannot be excluded", "cannot exclude AVN". The
    # tokenizer splits "cannot" into "can not" and "can't" into "ca n't".
    cannot = [{"LOWER": {"IN": ["can", "ca", "could"]}}, {"LOWER": {"IN": ["not", "n't"]}}]
    add("cannot be excluded", pos, "BACKWARD",
        cannot + [{"LOWER": "be"},
                  {"LOWER": {"IN": ["entirely", "completely", "definitely"]}, "OP": "?"},
                  {"LOWER": {"IN": ["excluded", "ruled"]}}, {"LOWER": "out", "OP": "?"}])
    add("not excluded", pos, "BACKWARD",
        [{"LOWER": {"IN": ["is", "are", "was", "were"]}, "OP": "?"}, {"LOWER": "not"},
         {"LOWER": {"IN": ["entirely", "completely", "definitely"]}, "OP": "?"},
         {"LOWER": "excluded"}])
    add("cannot exclude", pos, "FORWARD",
        cannot + [{"LOWER": {"IN": ["exclude", "rule"]}}, {"LOWER": "out", "OP": "?"}])
    # ... and the opposite: "AVN can be excluded", "we can exclude AVN" deny it
    add("can be excluded", neg, "BACKWARD",
        [{"LOWER": "can"}, {"LOWER": "be"}, {"LOWER": {"IN": ["excluded", "ruled"]}},
         {"LOWER": "out", "OP": "?"}])
    add("can exclude", neg, "FORWARD",
        [{"LOWER": "can"}, {"LOWER": {"IN": ["exclude", "rule"]}}, {"LOWER": "out", "OP": "?"}])
    add("differential includes", pos, "FORWARD",
        [{"LOWER": "differential"}, {"LOWER": {"IN": ["diagnosis", "diagnoses"]}, "OP": "?"},
         {"LOWER": {"IN": ["includes", "include", "considerations", "is", ":"]}, "OP": "?"}])
    for literal in ("equivocal", "questionable", "indeterminate", "query", "suspected",
                    "may represent", "could represent", "might represent", "concern for",
                    "raising the possibility of", "versus", "vs"):
        add(literal, pos, "FORWARD")
    for literal in ("is suspected", "not entirely excluded", "is questioned"):
        add(literal, pos, "BACKWARD")
    # History: short scope so "compared with prior MRI, new edema" stays current
    add("prior", hist, "FORWARD", [{"LOWER": {"IN": ["prior", "previous", "previously", "old",
                                                     "remote"]}}], max_scope=4)
    add("status post", hist, "FORWARD", [{"LOWER": "status"}, {"LOWER": "post"}], max_scope=4)
    add("s/p", hist, "FORWARD", [{"LOWER": "s"}, {"ORTH": "/"}, {"LOWER": "p"}], max_scope=4)
    add("post", hist, "FORWARD", [{"LOWER": "post"}, _OPT_HYPHEN], max_scope=4)
    add("compared with prior", hist, "PSEUDO",
        [{"LOWER": {"IN": ["compared", "comparison"]}}, {"LOWER": {"IN": ["with", "to"]}},
         {"LOWER": {"IN": ["the", "a"]}, "OP": "?"}, {"LOWER": {"IN": ["prior", "previous"]}}])
    # Resolution and improvement (custom categories)
    add("resolution of", RESOLVED, "FORWARD",
        [{"LOWER": {"IN": ["resolution", "disappearance", "normalization", "normalisation"]}},
         {"LOWER": {"IN": ["of", "in"]}}])
    add("resolved", RESOLVED, "BACKWARD",
        [{"LOWER": {"IN": ["resolved", "disappeared", "normalized", "normalised"]}}])
    add("no longer seen", RESOLVED, "BIDIRECTIONAL",
        [{"LOWER": "no"}, {"LOWER": "longer"},
         {"LOWER": {"IN": ["seen", "visible", "present", "identified", "demonstrated",
                           "evident"]}, "OP": "?"}])
    add("improvement in", IMPROVING, "FORWARD",
        [{"LOWER": {"IN": ["improvement", "decrease", "reduction", "regression"]}},
         {"LOWER": {"IN": ["in", "of"]}}])
    add("improving", IMPROVING, "BIDIRECTIONAL",
        [{"LOWER": {"IN": ["improved", "improving", "decreased", "decreasing", "regressing",
                           "regressed", "resolving", "diminished", "reduced"]}}])
    # Recommendations and risks are not findings ("given the risk of fracture")
    add("risk of", "HYPOTHETICAL", "FORWARD",
        [{"LOWER": {"IN": ["risk", "risks"]}}, {"LOWER": {"IN": ["of", "for"]}}])
    add("assess for", "HYPOTHETICAL", "FORWARD",
        [{"LOWER": {"IN": ["assess", "evaluate", "look", "monitor", "prevent", "avoid"]}},
         {"LOWER": {"IN": ["for", "against"]}, "OP": "?"}])
    # TERMINATE rules end the scope of modifiers of every category in medspaCy.
    add("because", "HYPOTHETICAL", "TERMINATE", [{"LOWER": "because"}])
    add(";", "NEGATED_EXISTENCE", "TERMINATE", [{"ORTH": ";"}])  # "no AVN; diffuse edema"
    return rules
