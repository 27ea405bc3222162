"""medspaCy's ConText, looking only at sentences that hold a finding.

Why: ConText compares every modifier of a document with every other (to limit scopes)
and with every finding, but a modifier never reaches past its sentence. Modifiers in
sentences with no finding ("The joint space is not narrowed.") change nothing, yet cost
most of ConText's time on a typical report; and a document with no finding needs no
ConText at all. The
algorithm is medspaCy's own (its matcher, ConTextModifier and ConTextGraph); only the
modifiers it is given are fewer.
"""

from __future__ import annotations

import bisect

from medspacy.context import ConText
from medspacy.context.context_graph import ConTextGraph
from medspacy.context.context_modifier import ConTextModifier

from cds_service.clinical.sentences import sentence_starts_of as sentence_starts


class TargetedConText(ConText):
    """ConText whose modifiers are those in sentences with a target (see module doc)."""

    def __call__(self, doc, targets: str | None = None):  # type: ignore[override]
        targets_found = doc.ents if not targets else getattr(doc._, targets)
        graph = ConTextGraph(prune_on_modifier_overlap=self.prune_on_target_overlap)
        graph.targets = targets_found
        graph.modifiers = []
        doc._.context_graph = graph
        if not targets_found:
            return doc
        starts = sentence_starts(doc)
        wanted = {bisect.bisect_right(starts, t.start) - 1 for t in targets_found}
        matcher = self._ConText__matcher  # medspaCy keeps its matcher private
        for match_id, start, end in matcher(doc):
            if bisect.bisect_right(starts, start) - 1 not in wanted:
                continue
            rule = matcher.rule_map[self.nlp.vocab[match_id].text]
            graph.modifiers.append(ConTextModifier(rule, start, end, doc,
                                                   max_scope=self.max_scope))
        graph.update_scopes()
        graph.apply_modifiers()
        for target, modifier in graph.edges:
            target._.modifiers += (modifier,)
        if self.context_attributes_mapping:
            self.set_context_attributes(graph.edges)
        return doc
