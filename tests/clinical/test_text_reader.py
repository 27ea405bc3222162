"""Text reader: concepts, negation, uncertainty, history, resolution, site and side."""

from __future__ import annotations

import pytest

from cds_service.clinical.text_reader import default_reader
from cds_service.clinical import text_rules as tr
from cds_service.clinical.facts import (
    ABSENT, HISTORICAL, IMPROVING, INDICATION, POSSIBLE, PRESENT, RESOLVED, state_of)

READER = default_reader()


def states(text: str, concept: str) -> list[str]:
    return [state_of(m) for m in READER.read(text).of(concept)]


@pytest.mark.parametrize(
    ("text", "concept", "expected"),
    [
        # negation
        ("No evidence of AVN.", tr.AVN, ABSENT),
        ("Without evidence of avascular necrosis of the head of femur.", tr.AVN, ABSENT),
        ("No double line sign.", tr.AVN, ABSENT),
        ("No double-line sign or crescent sign.", tr.AVN, ABSENT),
        ("There is no bone marrow edema.", tr.BME, ABSENT),
        ("No bone marrow oedema.", tr.BME, ABSENT),
        ("Features are not typical of osteonecrosis.", tr.AVN, ABSENT),
        # affirmed
        ("Double line sign in the left femoral head.", tr.AVN, PRESENT),
        ("Diffuse bone marrow oedema of the left femoral head and neck.", tr.BME, PRESENT),
        ("Findings suggestive of transient osteoporosis of the hip.", tr.TOH, PRESENT),
        ("Bilateral transient bone marrow edema syndrome.", tr.TOH, PRESENT),
        ("Consistent with regional migratory osteoporosis.", tr.TOH, PRESENT),
        ("Subchondral insufficiency fracture of the right femoral head.", tr.SIF, PRESENT),
        ("Thin subchondral line without collapse.", tr.THIN_LINE, PRESENT),
        # uncertainty: medspaCy's defaults read "cannot exclude AVN" as negated
        ("AVN cannot be excluded.", tr.AVN, POSSIBLE),
        ("Cannot exclude AVN.", tr.AVN, POSSIBLE),
        ("Early AVN is not excluded.", tr.AVN, POSSIBLE),
        ("Could not rule out AVN.", tr.AVN, POSSIBLE),
        ("Can't exclude early AVN.", tr.AVN, POSSIBLE),
        # "does not rule out" leaves it possible; "X ruled out" after it denies it
        ("This does not rule out infection.", tr.INFECTION, POSSIBLE),
        ("The bone scan does not exclude osteomyelitis.", tr.INFECTION, POSSIBLE),
        ("Septic arthritis ruled out, no antibiotics.", tr.INFECTION, ABSENT),
        ("Infection has been ruled out by aspiration.", tr.INFECTION, ABSENT),
        ("Rule out septic arthritis.", tr.INFECTION, POSSIBLE),
        # ... while "can be excluded" denies it
        ("AVN can be excluded.", tr.AVN, ABSENT),
        ("We can exclude osteonecrosis.", tr.AVN, ABSENT),
        ("Avascular necrosis can be ruled out.", tr.AVN, ABSENT),
        ("Possible septic arthritis.", tr.INFECTION, POSSIBLE),
        ("Findings suspicious for metastasis.", tr.TUMOUR, POSSIBLE),
        ("Differential includes septic arthritis.", tr.INFECTION, POSSIBLE),
        # history and resolution
        ("Prior core decompression of the left hip.", tr.CORE_DECOMPRESSION, HISTORICAL),
        ("Status post core decompression.", tr.CORE_DECOMPRESSION, HISTORICAL),
        ("S/p core decompression of the left hip.", tr.CORE_DECOMPRESSION, HISTORICAL),
        ("History of avascular necrosis.", tr.AVN, HISTORICAL),
        ("Bone marrow oedema has resolved.", tr.BME, RESOLVED),
        ("Complete resolution of bone marrow edema and effusion.", tr.BME, RESOLVED),
        ("Previous left hip bone marrow edema, which has since resolved.", tr.BME, RESOLVED),
        ("Significant improvement in bone marrow edema.", tr.BME, IMPROVING),
        # a radiology phrasing outranks medspaCy's default for the same words
        ("Bone marrow edema no longer present.", tr.BME, RESOLVED),
        # the question is not a finding
        ("INDICATION: hip pain, rule out AVN.\n\nFINDINGS: normal.", tr.AVN, INDICATION),
        # recommendations are not findings
        ("Advise protected weight bearing given the risk of fracture.", tr.STRESS_FRACTURE,
         HISTORICAL),
    ],
)
def test_context_states(text: str, concept: str, expected: str) -> None:
    found = states(text, concept)
    assert found and set(found) == {expected}


@pytest.mark.parametrize(
    ("text", "concept", "not_expected"),
    [
        ("AVN cannot be excluded.", tr.AVN, ABSENT),  # the default rule's misreading
        ("Compared with prior MRI, there is new bone marrow edema in the left talus.", tr.BME,
         HISTORICAL),  # "prior" only reaches a few words
        ("No AVN; diffuse bone marrow edema of the right femoral head.", tr.BME, ABSENT),
    ],
)
def test_context_does_not_overreach(text: str, concept: str, not_expected: str) -> None:
    found = states(text, concept)
    assert found and not_expected not in found


@pytest.mark.parametrize(
    ("text", "site", "side"),
    [
        ("Diffuse bone marrow edema of the left femoral head and neck.", "femoral head", "left"),
        ("STIR images of the pelvis show hyperintense signal in the right femoral neck.",
         "femoral neck", "right"),
        ("Bone marrow edema of both hips.", "hip", "bilateral"),
        ("Bone marrow edema of the left talus.", "talus", "left"),
        ("Marrow edema of the medial femoral condyle of the right knee.", "knee", "right"),
    ],
)
def test_site_and_side(text: str, site: str, side: str) -> None:
    mention = READER.read(text).of(tr.BME)[0]
    assert (mention.site, mention.side) == (site, side)


@pytest.mark.parametrize(
    ("text", "is_edema"),
    [
        ("STIR coronal images reveal hyperintense signal in the left femoral head.", True),
        ("T2 fat-saturated images: high signal intensity in the left talus.", True),
        ("Hyperintense signal in the left femoral head.", False),  # no sequence named
        ("High signal on STIR in the adductor muscles.", False),  # no bone named
    ],
)
def test_fluid_sensitive_signal_reads_as_edema_only_with_sequence_and_bone(
        text: str, is_edema: bool) -> None:
    assert bool(READER.read(text).of(tr.BME)) is is_edema


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        # clinical.md: SIF is a low-signal band convex to the articular surface
        ("Irregular serpiginous low-signal band convex to the articular surface.",
         tr.SUBCHONDRAL_FRACTURE),
        ("Serpiginous low-signal band outlining a necrotic segment.", tr.AVN),
    ],
)
def test_band_convex_to_surface_is_a_fracture_line(text: str, concept: str) -> None:
    assert {m.concept for m in READER.read(text).mentions} == {concept}


def test_diffuse_and_focal_qualifiers() -> None:
    diffuse = READER.read("Ill-defined marrow edema extending to the intertrochanteric "
                               "region.").of(tr.BME)[0]
    focal = READER.read("Focal bone marrow edema of the femoral head.").of(tr.BME)[0]
    assert diffuse.diffuse and not diffuse.focal
    assert focal.focal and not focal.diffuse


def test_readings_are_cached_by_content() -> None:
    text = "Unique cache probe: diffuse bone marrow edema of the right femoral head."
    first = READER.read(text)
    size = len(READER.cache)
    assert READER.read(text) is first
    assert len(READER.cache) == size


def test_empty_text_reads_nothing() -> None:
    assert READER.read("").mentions == ()
    assert READER.read(None).mentions == ()


def test_no_debug_logging_from_the_pipeline(capfd: pytest.CaptureFixture[str]) -> None:
    READER.warm()
    capfd.readouterr()
    READER.read("Logging probe. No fracture. Possible septic arthritis of the left hip.")
    out, err = capfd.readouterr()
    assert "DEBUG" not in out + err
