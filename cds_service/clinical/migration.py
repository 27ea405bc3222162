"""patient-view logic (handler "tmo-migration"): the migratory pattern of TOH.

Bone marrow edema in a new joint (a different joint, or the other hip) after an earlier
transient episode (resolved or improving) that began within migration_window_days
before it (clinical.md: recurrence reported up to about 3 years later) gives one info
card with the timeline. A current episode must itself be unresolved and have begun within
the same window before now, so an old, finished story does not raise a card forever.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from cds_service.clinical.cards import migration_card
from cds_service.clinical.core_decompression import is_imaging_observation
from cds_service.clinical.episodes import joint_label, same_joint
from cds_service.clinical.extract import collect_facts
from cds_service.clinical.facts import JointEpisode
from cds_service.clinical.reasons import Reason, when
from cds_service.clinical.thresholds import Thresholds
from cds_service.fhir.record import PatientRecord, RawResource
from cds_service.services.logic import Invocation, IssuedCard

_KEPT = frozenset({"Patient", "Condition", "ImagingStudy", "DiagnosticReport",
                   "MedicationRequest", "MedicationStatement", "Medication", "Procedure"})
_ADVICE = ("Transient migratory osteoporosis is self-limiting: protected weight bearing, "
           "analgesics and follow-up MRI are usually enough; avoid irreversible procedures "
           "such as core decompression unless conservative care fails.")


def _other_joint(a: JointEpisode, b: JointEpisode) -> bool:
    if not same_joint(a, b):  # an ankle/foot episode shares the ankle and the foot
        return True
    return bool(a.side and b.side and "bilateral" not in (a.side, b.side) and a.side != b.side)


def find_migration(episodes: tuple[JointEpisode, ...], now: datetime, window_days: int
                   ) -> tuple[JointEpisode, list[JointEpisode]] | None:
    """(current episode, earlier transient episodes in other joints), or None."""
    window = timedelta(days=window_days)
    dated = [e for e in episodes if e.start is not None]
    current = sorted((e for e in dated if not e.closed and now - e.start <= window),
                     key=lambda e: e.start, reverse=True)
    for new in current:
        earlier = [e for e in dated if e is not new and e.transient and _other_joint(e, new)
                   and e.start < new.start and new.start - e.start <= window]
        if earlier:
            return new, earlier
    return None


def _episode_reason(e: JointEpisode, now_label: str = "") -> Reason:
    if now_label:
        text = f"{now_label}: bone marrow edema in the {joint_label(e)} since {when(e.start)}"
    else:
        outcome = "resolved" if e.closed else "improving"
        text = (f"Earlier: bone marrow edema in the {joint_label(e)} from {when(e.start)}, "
                f"{outcome} by {when(e.resolved_on)}")
    return Reason(text, e.refs, e.start, e.resolution_phrase if not now_label and
                  e.resolution_phrase else e.phrase)


class MigrationLogic:
    """Flags edema moving between weight-bearing joints (TMO / RMO) on chart open."""

    def __init__(self, thresholds: Thresholds) -> None:
        self.thresholds = thresholds

    def keep(self, raw: RawResource) -> bool:
        kind = raw.get("resourceType")
        return kind in _KEPT or (kind == "Observation" and is_imaging_observation(raw))

    def decide(self, invocation: Invocation, record: PatientRecord) -> list[IssuedCard]:
        facts = collect_facts(record, invocation.now, self.thresholds)
        found = find_migration(facts.episodes, invocation.now,
                               self.thresholds.migration_window_days)
        if found is None:
            return []
        new, earlier = found
        return [migration_card(new, earlier, facts.risk_factors)]
