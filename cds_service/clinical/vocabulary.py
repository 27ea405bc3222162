"""The reading vocabulary as data: terms, modifier rules and section headings in TOML.

Why plain files: the clinical informaticist tunes what the reader recognises without
touching code, and a mistake stops start-up with the file and the entry named
(`VocabularyError`), never a silently narrower reader. `docs/vocabulary.md` documents
the format; this module only parses and checks it, and spells out each phrase.

A phrase is words separated by spaces, with three kinds of group:
  `{edema}`         any word of the form group `edema` (forms.toml)
  `(a|b c)`         exactly one of the alternatives (an alternative may be several words)
  `[a|b c]`         optionally one of them
Groups do not nest (form groups may sit inside an alternative). "double-line sign"
is written as it is read: the tokenizer splits the hyphen the same way in the text.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

MAX_SPELLINGS = 1024  # one phrase may spell out to at most this many strings

# ConText categories an informaticist may name, in the files' lower-case spelling.
MODIFIER_CATEGORIES = {
    "negated": "NEGATED_EXISTENCE",
    "possible": "POSSIBLE_EXISTENCE",
    "historical": "HISTORICAL",
    "hypothetical": "HYPOTHETICAL",
    "resolved": "RESOLVED",
    "improving": "IMPROVING",
    "degenerative": "DEGENERATIVE",
    "pseudo": "PSEUDO",
    "terminate": "TERMINATE",
}
SECTION_STATUSES = ("question", "historical", "possible")
DIRECTIONS = {"forward", "backward", "bidirectional", "pseudo", "terminate"}


class VocabularyError(ValueError):
    """A vocabulary file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Term:
    concept: str
    sign: str  # what a card may call it ("double line sign"); the concept when not given
    spellings: tuple[str, ...]


@dataclass(frozen=True)
class Modifier:
    category: str  # a medspaCy ConText category (MODIFIER_CATEGORIES values)
    direction: str  # FORWARD | BACKWARD | BIDIRECTIONAL | PSEUDO | TERMINATE
    spellings: tuple[str, ...]
    max_scope: int | None = None
    allowed: frozenset[str] | None = None  # concepts it may modify (None: all)
    ends_at: tuple[str, ...] = ()  # words that end its scope ("," for "in the absence of")


@dataclass(frozen=True)
class SectionKind:
    category: str
    headings: tuple[str, ...]
    reads_as: str | None = None  # "question" (asked, not found) or "historical"


@dataclass(frozen=True)
class Vocabulary:
    terms: tuple[Term, ...]
    modifiers: tuple[Modifier, ...]
    sections: tuple[SectionKind, ...]
    replaced_defaults: frozenset[str] = field(default_factory=frozenset)
    concepts: frozenset[str] = field(default_factory=frozenset)

    def section_status(self) -> dict[str, str]:
        """Section category -> the status every finding in it takes."""
        return {s.category: s.reads_as for s in self.sections if s.reads_as}


_GROUP = re.compile(r"\{(\w+)\}|\(([^()\[\]]*)\)|\[([^()\[\]]*)\]|([^\s()\[\]{}]+)")


def spell_out(phrase: str, forms: dict[str, tuple[str, ...]]) -> list[str]:
    """Every string a phrase stands for (see the module docstring), or ValueError."""
    text = phrase.strip()
    if not text:
        raise ValueError("empty phrase")
    leftover = _GROUP.sub("", text).strip()
    if leftover:
        raise ValueError(f"unbalanced or nested brackets near {leftover!r}")
    choices: list[list[str]] = []
    for m in _GROUP.finditer(text):
        form, required, optional, word = m.groups()
        if form is not None:
            choices.append(list(_form(form, forms)))
        elif word is not None:
            choices.append([word])
        else:
            body = required if required is not None else optional
            alternatives = [_spell_alternative(a, forms) for a in body.split("|")]
            flat = [s for options in alternatives for s in options]
            if not all(flat):
                raise ValueError(f"empty alternative in {m.group(0)!r}")
            choices.append(flat + [""] if optional is not None else flat)
    total = 1
    for options in choices:
        total *= len(options)
        if total > MAX_SPELLINGS:
            raise ValueError(f"spells out to more than {MAX_SPELLINGS} phrases; split it")
    spelled = {" ".join(w for w in combo if w) for combo in itertools.product(*choices)}
    return sorted(s for s in spelled if s)


def _spell_alternative(text: str, forms: dict[str, tuple[str, ...]]) -> list[str]:
    parts: list[list[str]] = []
    for token in text.split():
        m = re.fullmatch(r"\{(\w+)\}", token)
        parts.append(list(_form(m.group(1), forms)) if m else [token])
    return [" ".join(p) for p in itertools.product(*parts)] if parts else [""]


def _form(name: str, forms: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    if name not in forms:
        raise ValueError(f"unknown form group {{{name}}}")
    return forms[name]


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise VocabularyError(f"{path}: file not found") from exc
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise VocabularyError(f"{path}: cannot read TOML: {exc}") from exc


def _strings(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(
            isinstance(v, str) and v.strip() for v in value):
        raise VocabularyError(f"{where}: must be a non-empty list of non-empty strings")
    return value


def _spell_all(phrases: list[str], forms: dict[str, tuple[str, ...]], where: str,
               key: str = "phrases") -> tuple[str, ...]:
    out: list[str] = []
    for i, phrase in enumerate(phrases):
        try:
            out.extend(spell_out(phrase, forms))
        except ValueError as exc:
            raise VocabularyError(f"{where}.{key}[{i}] {phrase!r}: {exc}") from None
    return tuple(dict.fromkeys(s.lower() for s in out))


def _only(entry: dict, allowed: set[str], where: str) -> None:
    unknown = set(entry) - allowed
    if unknown:
        raise VocabularyError(f"{where}: unknown key(s) {sorted(unknown)}; "
                              f"allowed: {sorted(allowed)}")


def _entries(raw: dict, path: Path, key: str, allowed: set[str]):
    """(where, entry) for each `[[key]]` table of a file, its keys checked."""
    for i, entry in enumerate(raw.get(key, [])):
        where = f"{path}: {key}[{i}]"
        if not isinstance(entry, dict):
            raise VocabularyError(f"{where}: must be a table")
        _only(entry, allowed, where)
        yield where, entry


def load(folder: Path) -> Vocabulary:
    """Read forms.toml, targets.toml, modifiers.toml and sections.toml from `folder`."""
    forms_path = folder / "forms.toml"
    raw_forms = _read_toml(forms_path).get("forms", {})
    if not isinstance(raw_forms, dict):
        raise VocabularyError(f"{forms_path}: [forms] must be a table of word lists")
    forms = {name: tuple(w.lower() for w in _strings(words, f"{forms_path}: forms.{name}"))
             for name, words in raw_forms.items()}

    targets_path = folder / "targets.toml"
    raw_targets = _read_toml(targets_path)
    _only(raw_targets, {"concepts", "term"}, str(targets_path))
    concepts = frozenset(_strings(raw_targets.get("concepts"), f"{targets_path}: concepts"))
    terms: list[Term] = []
    for where, entry in _entries(raw_targets, targets_path, "term",
                                 {"concept", "sign", "phrases"}):
        concept = entry.get("concept")
        if concept not in concepts:
            raise VocabularyError(f"{where}: concept {concept!r} is not one of "
                                  f"{sorted(concepts)}")
        sign = entry.get("sign", concept)
        if not isinstance(sign, str) or not sign.strip():
            raise VocabularyError(f"{where}: sign must be a non-empty string")
        terms.append(Term(concept, sign, _spell_all(
            _strings(entry.get("phrases"), f"{where}.phrases"), forms, where)))

    modifiers_path = folder / "modifiers.toml"
    raw_mods = _read_toml(modifiers_path)
    _only(raw_mods, {"replace_defaults", "modifier"}, str(modifiers_path))
    replaced = raw_mods.get("replace_defaults", [])
    if replaced:
        replaced = _strings(replaced, f"{modifiers_path}: replace_defaults")
    modifiers: list[Modifier] = []
    for where, entry in _entries(raw_mods, modifiers_path, "modifier", {
            "category", "direction", "phrases", "max_scope", "only", "ends_at"}):
        category = entry.get("category")
        direction = entry.get("direction")
        if category not in MODIFIER_CATEGORIES:
            raise VocabularyError(f"{where}: category {category!r} is not one of "
                                  f"{sorted(MODIFIER_CATEGORIES)}")
        if direction not in DIRECTIONS:
            raise VocabularyError(f"{where}: direction {direction!r} is not one of "
                                  f"{sorted(DIRECTIONS)}")
        scope = entry.get("max_scope")
        if scope is not None and (not isinstance(scope, int) or isinstance(scope, bool)
                                  or not 1 <= scope <= 50):
            raise VocabularyError(f"{where}: max_scope must be a whole number from 1 to 50")
        only = entry.get("only")
        if only is not None:
            only = frozenset(_strings(only, f"{where}.only"))
            if not only <= concepts:
                raise VocabularyError(f"{where}: only names unknown concept(s) "
                                      f"{sorted(only - concepts)}")
        ends_at = entry.get("ends_at", [])
        if ends_at:
            ends_at = _strings(ends_at, f"{where}.ends_at")
        modifiers.append(Modifier(MODIFIER_CATEGORIES[category], direction.upper(), _spell_all(
            _strings(entry.get("phrases"), f"{where}.phrases"), forms, where), scope, only,
            tuple(ends_at)))

    sections_path = folder / "sections.toml"
    raw_sections = _read_toml(sections_path)
    _only(raw_sections, {"section"}, str(sections_path))
    sections: list[SectionKind] = []
    for where, entry in _entries(raw_sections, sections_path, "section",
                                 {"category", "headings", "reads_as"}):
        category = entry.get("category")
        if not isinstance(category, str) or not re.fullmatch(r"[a-z_]+", category):
            raise VocabularyError(f"{where}: category must be lower-case letters and _")
        reads_as = entry.get("reads_as")
        if reads_as not in (None, *SECTION_STATUSES):
            raise VocabularyError(f"{where}: reads_as must be one of {SECTION_STATUSES}")
        sections.append(SectionKind(category, _spell_all(
            _strings(entry.get("headings"), f"{where}.headings"), forms, where, "headings"),
            reads_as))
    return Vocabulary(tuple(terms), tuple(modifiers), tuple(sections),
                      frozenset(replaced), concepts)
