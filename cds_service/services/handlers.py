"""Handler names used in hooks/services/*.toml, mapped to the logic that runs them."""

from __future__ import annotations

from collections.abc import Callable

from cds_service.clinical.text_reader import TextReader
from cds_service.clinical.thresholds import Thresholds
from cds_service.fhir.caches import DerivedCache
from cds_service.services.core_decompression import CoreDecompressionLogic
from cds_service.services.logic import ServiceLogic
from cds_service.services.migration import MigrationLogic

# Each is built with the thresholds, the worker's text reader and its derived-value cache.
HANDLERS: dict[str, Callable[[Thresholds, TextReader, DerivedCache], ServiceLogic]] = {
    "core-decompression": CoreDecompressionLogic,
    "tmo-migration": MigrationLogic,
}
