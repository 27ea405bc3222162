"""patient-view logic (handler "tmo-migration"): the migratory pattern of TOH on chart open.

The adapter between a hook call and the clinical core: the record's facts, the core's
find_migration, and at most one info card with the timeline. No I/O.
"""

from __future__ import annotations

from cds_service.clinical.extract import collect_facts
from cds_service.clinical.migration import find_migration
from cds_service.fhir.raw import RawResource
from cds_service.fhir.record import PatientRecord
from cds_service.services.descriptors import TMO_MIGRATION
from cds_service.services.logic import FactsLogic, Invocation, IssuedCard
from cds_service.services.migration.card import migration_card


class MigrationLogic(FactsLogic):
    """Flags edema moving between weight-bearing joints (TMO / RMO) on chart open."""

    def keep(self, raw: RawResource) -> bool:
        return TMO_MIGRATION.keep(raw)  # what the handler's descriptor reads

    def decide(self, invocation: Invocation, record: PatientRecord) -> list[IssuedCard]:
        facts = collect_facts(record, invocation.now, self.thresholds, self.reader,
                              self.derived)
        found = find_migration(facts.episodes, invocation.now,
                               self.thresholds.migration_window_days)
        if found is None:
            return []
        new, earlier = found
        return [migration_card(new, earlier, facts.risk_factors)]
