"""The core-decompression handler: a hook call in, one card per triggered order out.

`logic` adapts the invocation to the clinical core's facts and assessment; `cards`,
`card_summary` and `card_bullets` present an assessment as a CDS Hooks card.
"""

from cds_service.services.core_decompression.logic import (
    CoreDecompressionLogic,
    keep_for_order,
    order_side,
)

__all__ = ["CoreDecompressionLogic", "keep_for_order", "order_side"]
