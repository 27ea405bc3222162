"""medspaCy's ConText, looking only at sentences that hold a finding.

Why: ConText compares every modifier of a document with every other (to limit scopes)
and with every finding, but a modifier never reaches past its sentence. So the same
algorithm run per sentence gives the same answer: modifiers in sentences with no finding
("The joint space is not narrowed.") change nothing yet cost most of ConText's time on a
typical report, and pairwise work over a whole run-on text ("no AVN, " x 12,500 took
12 s) grows with the square of its length. The
algorithm is medspaCy's own (its matcher, ConTextModifier and ConTextGraph); only the
modifiers it is given are fewer.

The few rules left as token patterns (phrase_rules.py: those starting with a bare
"n't") made spaCy's Matcher step through every token of every report, ~190 us a round
of S1 for rules that rarely apply; `FirstWordGate` runs it only on a document holding
a word one of its patterns must start with.
"""

from __future__ import annotations

import bisect

from medspacy.context import ConText
from medspacy.context.context_graph import ConTextGraph
from medspacy.context.context_modifier import ConTextModifier
from spacy.attrs import LOWER

from cds_service.clinical.sentences import sentence_starts_of as sentence_starts


def _first_words(patterns: list) -> frozenset[str] | None:
    """The lower-cased words one of `patterns` must start with, or None when some
    pattern may start with any word (an optional first token, another attribute)."""
    words: set[str] = set()
    for pattern in patterns:
        first = pattern[0] if pattern else None
        if not isinstance(first, dict) or first.get("OP") not in (None, "+"):
            return None
        attrs = [key for key in first if key != "OP"]
        value = first[attrs[0]] if len(attrs) == 1 and attrs[0] in ("LOWER", "ORTH") else None
        if isinstance(value, dict) and set(value) == {"IN"}:
            value = value["IN"]
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            return None
        words.update(v.lower() for v in values)
    return frozenset(words)


class FirstWordGate:
    """A spaCy Matcher run only on a document holding a word its patterns start with
    (the same matches: a pattern cannot match without its first word)."""

    def __init__(self, matcher, patterns: list, vocab) -> None:
        self.matcher = matcher
        words = _first_words(patterns)
        self.first = None if words is None else frozenset(vocab.strings.add(w) for w in words)

    def __call__(self, doc):
        if self.first is not None and self.first.isdisjoint(doc.to_array(LOWER).tolist()):
            return []
        return self.matcher(doc)

    def __len__(self) -> int:
        return len(self.matcher)

    def add(self, key, patterns: list, on_match=None) -> None:
        """Rules added later (medspaCy's `ConText.add`) widen the gate."""
        self.matcher.add(key, patterns, on_match=on_match)
        words = _first_words(patterns)
        if words is None or self.first is None:
            self.first = None
        else:
            self.first |= frozenset(self.matcher.vocab.strings.add(w) for w in words)


def gate_token_patterns(context: ConText) -> None:
    """Put the token-pattern part of ConText's matcher behind a FirstWordGate (medspaCy
    keeps it private: `MedspacyMatcher.__matcher`; checked by tests/clinical)."""
    matcher = context._ConText__matcher
    inner = matcher._MedspacyMatcher__matcher
    if isinstance(inner, FirstWordGate):
        return
    patterns = [rule.pattern for rule in context.rules if isinstance(rule.pattern, list)]
    matcher._MedspacyMatcher__matcher = FirstWordGate(inner, patterns, context.nlp.vocab)


class TargetedConText(ConText):
    """ConText run sentence by sentence, on the sentences that hold a target."""

    def __call__(self, doc, targets: str | None = None):
        targets_found = doc.ents if not targets else getattr(doc._, targets)
        whole = ConTextGraph(prune_on_modifier_overlap=self.prune_on_target_overlap)
        whole.targets, whole.modifiers, whole.edges = targets_found, [], []
        doc._.context_graph = whole
        if not targets_found:
            return doc
        starts = sentence_starts(doc)
        graphs: dict[int, ConTextGraph] = {}
        for target in targets_found:
            i = bisect.bisect_right(starts, target.start) - 1
            if i not in graphs:
                graphs[i] = ConTextGraph(prune_on_modifier_overlap=self.prune_on_target_overlap)
                graphs[i].targets, graphs[i].modifiers = [], []
            graphs[i].targets.append(target)
        matcher = self._ConText__matcher  # medspaCy keeps its matcher private
        for match_id, start, end in matcher(doc):
            graph = graphs.get(bisect.bisect_right(starts, start) - 1)
            if graph is None:
                continue
            rule = matcher.rule_map[self.nlp.vocab[match_id].text]
            graph.modifiers.append(ConTextModifier(rule, start, end, doc,
                                                   max_scope=self.max_scope))
        # Scopes end at the sentence, so each sentence's graph is the whole graph's part:
        # comparing modifiers pairwise per sentence keeps a run-on text linear.
        for graph in graphs.values():
            graph.update_scopes()
            graph.apply_modifiers()
            whole.modifiers += graph.modifiers
            whole.edges += graph.edges
        for target, modifier in whole.edges:
            target._.modifiers += (modifier,)
        if self.context_attributes_mapping:
            self.set_context_attributes(whole.edges)
        return doc
