"""The evidence timeline as a clinician sees it: a card's smart link launched by the
EHR (SMART App Launch, PKCE), the page drawn for the seed patients in headless chromium,
and what is on the screen checked; screenshots in tests/browser/artifacts/."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import BrowserContext, Page, expect

from cds_service.devtools import fixture_data
from cds_service.devtools.invoke import request_from_server
from tests.browser.conftest import CLIENT_ID, Ehr

pytestmark = [pytest.mark.integration, pytest.mark.browser]
JOINT_LANES = ["Left hip", "Right hip", "Left knee", "Right knee", "Left ankle", "Right ankle",
               "Left foot", "Right foot"]


def card_link(service: str, ehr: Ehr, patient: str, hook: str) -> dict:
    """The smart link of the card the service gives for this patient and hook, the
    service reading the chart from the EHR itself (no prefetch)."""
    definition = fixture_data.service_for_hook(hook)
    body = request_from_server(definition, ehr.fhir_base, patient, ehr.state.fhir_token, False)
    response = requests.post(f"{service}/cds-services/{definition.id}", json=body, timeout=60)
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    assert cards, f"no card for {patient} on {hook}"
    links = [link for link in cards[0]["links"] if link["type"] == "smart"]
    assert len(links) == 1 and links[0]["url"] == f"{service}/smart/launch"
    return links[0]


def open_app(browser: BrowserContext, ehr: Ehr, url: str, patient: str,
             app_context: str | None = None) -> tuple[Page, list[str]]:
    """Launch the app as the EHR does and wait until it has drawn; (page, URLs asked)."""
    page = browser.new_page()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    page.goto(ehr.launch_url(url, ehr.launch(patient, app_context)))
    expect(page.locator("body[data-ready=true]")).to_have_count(1, timeout=60_000)
    return page, asked


def marks(page: Page, lane: str, result: str | None = None) -> list[dict]:
    selector = f'#lanes [data-lane="{lane}"]' + (f'[data-result="{result}"]' if result else "")
    return page.eval_on_selector_all(selector, "nodes => nodes.map(n => ({...n.dataset, "
                                     "box: n.getBoundingClientRect().toJSON()}))")


def lane_labels(page: Page) -> list[str]:
    return page.eval_on_selector_all(
        "#lanes svg g[aria-label='y-axis tick label'] text", "ns => ns.map(n => n.textContent)")


def test_seed1_migration_at_a_glance(browser, ehr, service, artifacts: Path) -> None:  # type: ignore[no-untyped-def]
    """Seed case 1, 7 months on: hip edema that resolved, then the ankle."""
    link = card_link(service, ehr, "seed1-tmo-ankle", "patient-view")
    page, asked = open_app(browser, ehr, link["url"], "seed1-tmo-ankle", link.get("appContext"))
    page.screenshot(path=artifacts / "seed1-tmo-ankle.png", full_page=True)

    assert lane_labels(page)[:8] == JOINT_LANES
    assert {"Steroids", "Pregnancy"} <= set(lane_labels(page))
    hip_edema = marks(page, "left hip", "edema")
    assert [m["modality"] for m in hip_edema] == ["MRI"]
    assert [m["modality"] for m in marks(page, "left hip", "improving")] == ["MRI"]
    resolved = marks(page, "left hip", "resolved")
    assert resolved and resolved[0]["mention"] == "true"
    ankle_edema = marks(page, "left ankle", "edema")
    assert [m["modality"] for m in ankle_edema] == ["MRI"]
    assert [m["modality"] for m in marks(page, "left ankle", "normal")] == ["XR"]
    # at a glance: the ankle's edema is later than and on another row from the hip's,
    # an arrow joins them, and the banner says it in words
    hip, ankle = hip_edema[0]["box"], ankle_edema[0]["box"]
    assert ankle["x"] > hip["x"] + 100 and ankle["y"] > hip["y"] + 40
    assert page.locator("#lanes .migration-arrow path").count() == 1
    banner = page.locator("#migration")
    expect(banner).to_contain_text("Migratory pattern")
    expect(banner).to_contain_text("left hip")
    expect(banner).to_contain_text("left ankle")
    assert banner.inner_text().index("left hip") < banner.inner_text().index("left ankle")

    for kind in ("CRP", "ESR", "WBC"):
        points = page.locator(f'#labs [data-kind="{kind}"][data-raised]')
        assert points.count() == 1 and points.first.get_attribute("data-raised") == "false"
    expect(page.locator('#labs svg[data-kind="CRP"]')).to_contain_text("limit 5 mg/L")
    expect(page.locator("#lanes")).to_contain_text("no systemic steroids on record")
    expect(page.locator("#assessment")).to_contain_text("Recent hip MRI needed")

    page.locator('#lanes [data-lane="left ankle"][data-result="edema"]').click()
    evidence = page.locator("#evidence")
    expect(evidence).to_contain_text("Ill-defined marrow edema throughout the talar body")
    expect(evidence).to_contain_text("MRI left ankle without contrast")
    page.locator("#migration button.step").first.click()
    expect(evidence).to_contain_text("which has since resolved")
    page.screenshot(path=artifacts / "seed1-tmo-ankle-evidence.png", full_page=True)
    _only_own_origins(asked, service, ehr)
    page.close()


def test_seed1_hip_card_to_assessment(browser, ehr, service, artifacts: Path) -> None:  # type: ignore[no-untyped-def]
    """Seed case 1, hip phase: the decompression card's link opens the same assessment,
    for the ordered side; each reason opens its sentence."""
    link = card_link(service, ehr, "seed1-tmo-hip", "order-sign")
    assert link["appContext"] == '{"side":"left"}'
    page, asked = open_app(browser, ehr, link["url"], "seed1-tmo-hip", link["appContext"])
    assessment = page.locator("#assessment")
    expect(assessment.locator(".outcome")).to_have_text(
        "Transient osteoporosis of the hip suspected")
    expect(assessment).to_contain_text("left hip")
    assert [m["modality"] for m in marks(page, "left hip", "edema")] == ["MRI"]
    assert [m["modality"] for m in marks(page, "left hip", "normal")] == ["XR"]
    assert marks(page, "right hip") == [] and page.locator("#migration").is_hidden()
    reason = assessment.locator("button.reason", has_text="Diffuse bone marrow edema").first
    reason.click()
    expect(page.locator("#evidence blockquote").first).to_contain_text("bone marrow edema")
    # the reason's evidence is the MRI's: its mark is highlighted on the hip lane
    assert page.locator('#lanes [data-lane="left hip"][data-result="edema"].selected').count() == 1
    page.locator('#labs [data-kind="CRP"][data-raised]').click()
    expect(page.locator("#evidence")).to_contain_text("CRP 3.2 mg/L")
    expect(page.locator("#evidence")).to_contain_text("reference range")
    page.screenshot(path=artifacts / "seed1-tmo-hip.png", full_page=True)
    _only_own_origins(asked, service, ehr)
    token_requests = [r for r in ehr.state.token_requests if r.get("client_id") == CLIENT_ID]
    assert token_requests and all(r.get("code_verifier") for r in token_requests)
    page.close()


@pytest.mark.parametrize(("patient", "lane", "text"), [
    ("steroid-avn", "steroids", "Prednisone"),
    ("pregnancy-toh", "pregnancy", "Pregnant, 34 weeks"),
])
def test_exposure_lanes(browser, ehr, service, artifacts: Path, patient: str, lane: str,  # type: ignore[no-untyped-def]
                        text: str) -> None:
    page, _ = open_app(browser, ehr, f"{service}/smart/launch", patient)
    periods = page.locator(f'#lanes rect[data-lane="{lane}"]')
    assert periods.count() >= 1
    periods.first.click()
    expect(page.locator("#evidence")).to_contain_text(text)
    page.screenshot(path=artifacts / f"{patient}.png", full_page=True)
    page.close()


def test_septic_hip_raised_labs(browser, ehr, service, artifacts: Path) -> None:  # type: ignore[no-untyped-def]
    page, _ = open_app(browser, ehr, f"{service}/smart/launch", "septic-hip", '{"side":"right"}')
    expect(page.locator("#assessment .outcome")).to_have_text("Infection not excluded")
    for kind in ("CRP", "ESR", "WBC"):
        assert page.locator(f'#labs [data-kind="{kind}"][data-raised="true"]').count() == 1
    assert marks(page, "right hip", "infection")
    page.screenshot(path=artifacts / "septic-hip.png", full_page=True)
    page.close()


def test_launch_without_ehr_context(browser, service) -> None:  # type: ignore[no-untyped-def]
    """Opened by hand (no iss/launch), the page says it must be launched by the EHR."""
    page = browser.new_page()
    page.goto(f"{service}/smart/launch")
    expect(page.locator("#status")).to_contain_text("opened by the EHR")
    page.close()


def _only_own_origins(asked: list[str], service: str, ehr: Ehr) -> None:
    """No CDN or other host: every request went to the service or the EHR."""
    allowed = {urlsplit(service).netloc, urlsplit(ehr.base).netloc}
    assert {urlsplit(u).netloc for u in asked if not u.startswith("data:")} <= allowed
