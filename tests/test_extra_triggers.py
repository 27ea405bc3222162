"""`[service] extra_triggers`: the HL7 sandbox's imaging trigger list is off by default,
and when given it adds the sandbox's PAMA imaging orders to the hip core decompression
list; a malformed extra list stops start-up with its file named."""

from __future__ import annotations

from pathlib import Path

import pytest

from cds_service.devtools import fixture_data
from cds_service.app import create_app
from cds_service.resources import hooks_dir
from cds_service.services.definitions import DefinitionError, load_catalog
from cds_service.services.triggers import match_order
from tests.clock import TODAY, fixed_clock
from tests.conftest import make_settings

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SANDBOX_TRIGGERS = EXAMPLES / "hl7-sandbox-imaging-triggers.toml"
CPT = "http://www.ama-assn.org/go/cpt"
SELECT = "/cds-services/toh-core-decompression-select"


def pama_order(code: str, display: str) -> dict:
    """The draft order the sandbox's PAMA tab sends (its generateContext)."""
    return {"resourceType": "ServiceRequest", "id": "example-request-id", "status": "draft",
            "intent": "plan", "code": {"coding": [{"system": CPT, "code": code,
                                                   "display": display}], "text": display}}


MRI_HIP = pama_order("73721", "Magnetic resonance (eg, proton) imaging, any joint of lower "
                              "extremity; without contrast material")


def test_off_by_default() -> None:
    triggers = load_catalog(hooks_dir()).triggers["hip-core-decompression"]
    assert match_order(MRI_HIP, triggers) is None


def test_the_sandbox_list_adds_its_imaging_codes() -> None:
    catalog = load_catalog(hooks_dir(), extra_triggers=[SANDBOX_TRIGGERS])
    triggers = catalog.triggers["hip-core-decompression"]
    assert match_order(MRI_HIP, triggers) == f"{CPT}|73721"
    assert match_order(pama_order("70551", "MRI brain"), triggers) is None
    # the hooks/ list is all still there
    assert match_order({"resourceType": "ServiceRequest", "code": {"text": "Core "
                        "decompression of the left hip"}}, triggers) == "text"
    assert set(catalog.triggers) == {"hip-core-decompression"}


@pytest.mark.parametrize(
    ("text", "message"),
    [('name = "x"\nadds_to = "nope"\n', "adds_to: names no trigger list"),
     ('name = "x"\nadds_to = "hip-core-decompression"\n[[codes]]\nsystem = "s"\n', "codes"),
     (None, "extra trigger list not found")],
)
def test_a_bad_extra_list_names_its_file(tmp_path: Path, text: str | None, message: str) -> None:
    path = tmp_path / "extra.toml"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_catalog(hooks_dir(), extra_triggers=[path])
    assert str(caught.value).startswith(str(path)) and message in str(caught.value)


def test_a_pama_order_select_reaches_the_decision(tmp_path: Path) -> None:
    """order-select with the sandbox's imaging order: the service decides (a card)."""
    settings = make_settings(tmp_path, service={"extra_triggers": [str(SANDBOX_TRIGGERS)]})
    client = create_app(settings, clock=fixed_clock).test_client()
    body = fixture_data.fixture_request("seed1-tmo-hip", "order-select", today=TODAY)
    body["context"]["draftOrders"] = {"resourceType": "Bundle", "type": "collection",
                                      "entry": [{"resource": {**MRI_HIP, "subject": {
                                          "reference": f"Patient/{body['context']['patientId']}"}}}]}
    body["context"]["selections"] = ["ServiceRequest/example-request-id"]
    with_list = client.post(SELECT, json=body)
    assert with_list.status_code == 200 and with_list.get_json()["cards"]
    plain = create_app(make_settings(tmp_path / "plain"), clock=fixed_clock).test_client()
    assert plain.post(SELECT, json=body).get_json()["cards"] == []
