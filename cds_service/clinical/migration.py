"""The migratory pattern of TOH, found in a patient's joint episodes.

Bone marrow edema in a new joint (a different joint, or the other hip) after an earlier
transient episode (resolved or improving) that began within migration_window_days
before it (clinical.md: recurrence reported up to about 3 years later). A current episode
must itself be unresolved and have begun within the same window before now, so an old,
finished story does not raise a card forever. services/migration/ turns a finding into
the patient-view card.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from cds_service.clinical.episodes import same_joint
from cds_service.clinical.facts import JointEpisode


def _other_joint(a: JointEpisode, b: JointEpisode) -> bool:
    if not same_joint(a, b):  # an ankle/foot episode shares the ankle and the foot
        return True
    return bool(a.side and b.side and "bilateral" not in (a.side, b.side) and a.side != b.side)


def find_migration(episodes: tuple[JointEpisode, ...], now: datetime, window_days: int
                   ) -> tuple[JointEpisode, list[JointEpisode]] | None:
    """(current episode, earlier transient episodes in other joints), or None."""
    window = timedelta(days=window_days)
    dated = [(e.start, e) for e in episodes if e.start is not None]
    current = sorted(((start, e) for start, e in dated if not e.closed and now - start <= window),
                     key=lambda pair: pair[0], reverse=True)
    for new_start, new in current:
        earlier = [e for start, e in dated if e is not new and e.transient and _other_joint(e, new)
                   and start < new_start and new_start - start <= window]
        if earlier:
            return new, earlier
    return None
