"""The tmo-migration handler: on chart open, one info card when edema has moved joints.

`logic` adapts the invocation to the clinical core's find_migration; `card` presents
what it found as a CDS Hooks card.
"""

from cds_service.services.migration.logic import MigrationLogic

__all__ = ["MigrationLogic"]
