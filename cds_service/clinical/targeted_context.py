"""medspaCy's ConText, looking only at sentences that hold a finding.

Why: ConText compares every modifier of a document with every other (to limit scopes)
and with every finding, but a modifier never reaches past its sentence. So the same
algorithm run per sentence gives the same answer: modifiers in sentences with no finding
("The joint space is not narrowed.") change nothing yet cost most of ConText's time on a
typical report, and pairwise work over a whole run-on text ("no AVN, " x 12,500 took
12 s) grows with the square of its length. The
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
    """ConText run sentence by sentence, on the sentences that hold a target."""

    def __call__(self, doc, targets: str | None = None):  # type: ignore[override]
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
