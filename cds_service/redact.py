r"""What of a client's or a FHIR server's strings may reach a log line (issue 13 §6).

A resource id is logged only when it is a valid FHIR id (`[A-Za-z0-9\-.]{1,64}`), a
resource type only when it looks like one; anything else becomes a short hash (`#` and 12
hex digits of BLAKE2b), enough to tell two lines about the same value apart. Ids are what
EHRs assign and what the store keeps for feedback review; a free string (a 4 MB "id", one
holding a name and birth date with spaces and slashes) never reaches the log. Log what
these functions return, never the raw value."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
RESOURCE_TYPE = re.compile(r"[A-Z][A-Za-z]{1,63}")


def digest(value: object) -> str:
    text = value if isinstance(value, str) else repr(type(value))
    data = text.encode("utf-8", "surrogatepass")
    return "#" + hashlib.blake2b(data, digest_size=6).hexdigest()


def safe_id(value: object) -> str:
    """A FHIR id as it is when valid, else its hash; '?' when absent."""
    if value is None:
        return "?"
    if isinstance(value, str) and FHIR_ID.fullmatch(value):
        return value
    return digest(value)


def safe_type(value: object) -> str:
    if isinstance(value, str) and RESOURCE_TYPE.fullmatch(value):
        return value
    return digest(value)


def resource_label(raw: Mapping[str, Any]) -> str:
    """`Type/id` of a raw resource, fit for a log line."""
    return f"{safe_type(raw.get('resourceType'))}/{safe_id(raw.get('id'))}"
