"""hooks/ loading: the shipped files load; bad files fail with the file and field named."""

from __future__ import annotations

from pathlib import Path

import pytest

from cds_service.resources import hooks_dir
from cds_service.services.definitions import DefinitionError, load_catalog
from cds_service.services.handlers import HANDLERS

GOOD_SERVICE = """
id = "svc"
hook = "order-sign"
title = "T"
description = "D"
handler = "core-decompression"
triggers = "t"
"""
GOOD_TRIGGERS = 'name = "t"\n[[codes]]\nsystem = "s"\ncode = "c"\n'


def write_hooks(root: Path, service: str, triggers: str = GOOD_TRIGGERS) -> Path:
    (root / "services").mkdir(parents=True)
    (root / "triggers").mkdir()
    (root / "services" / "svc.toml").write_text(service)
    (root / "triggers" / "t.toml").write_text(triggers)
    return root


def test_shipped_hooks_load_three_services() -> None:
    catalog = load_catalog(hooks_dir(), known_handlers=set(HANDLERS))
    hooks = sorted(s.hook for s in catalog.services.values())
    assert hooks == ["order-select", "order-sign", "patient-view"]
    assert "hip-core-decompression" in catalog.triggers
    codes = {(c.system.rsplit("/", 1)[-1], c.code) for c in catalog.triggers["hip-core-decompression"].codes}
    assert ("HCPCSReleaseCodeSets", "S2325") in codes and ("cpt", "27299") in codes


@pytest.mark.parametrize(
    ("service", "triggers", "message"),
    [
        (GOOD_SERVICE.replace('hook = "order-sign"', 'hook = "order-dispatch"'), GOOD_TRIGGERS, "hook"),
        (GOOD_SERVICE.replace('id = "svc"', 'id = "bad id!"'), GOOD_TRIGGERS, "id"),
        (GOOD_SERVICE.replace('title = "T"\n', ""), GOOD_TRIGGERS, "title"),
        (GOOD_SERVICE + 'colour = "red"\n', GOOD_TRIGGERS, "colour"),
        (GOOD_SERVICE + '[prefetch]\npatient = "Patient/{{context.patientId}}"\n', GOOD_TRIGGERS,
         "prefetch comes from its handler"),
        (GOOD_SERVICE + 'optional_prefetch = ["labs"]\n', GOOD_TRIGGERS, "optional_prefetch: not set here"),
        (GOOD_SERVICE.replace('triggers = "t"', 'triggers = "nope"'), GOOD_TRIGGERS, "unknown trigger list"),
        (GOOD_SERVICE.replace('triggers = "t"\n', ""), GOOD_TRIGGERS, "order hooks need a `triggers` list"),
        (GOOD_SERVICE.replace("core-decompression", "nonexistent"), GOOD_TRIGGERS, "unknown handler"),
        (GOOD_SERVICE, "text_patterns = ['(unclosed']\n" + GOOD_TRIGGERS, "bad regular expression"),
        ("id = [", GOOD_TRIGGERS, "cannot read TOML"),
    ],
)
def test_bad_definition_names_file_and_field(tmp_path: Path, service: str, triggers: str, message: str) -> None:
    root = write_hooks(tmp_path / "hooks", service, triggers)
    with pytest.raises(DefinitionError) as caught:
        load_catalog(root, known_handlers=set(HANDLERS))
    assert message in str(caught.value)
    assert ".toml" in str(caught.value)


def test_missing_hooks_dir(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="not found"):
        load_catalog(tmp_path / "absent")
