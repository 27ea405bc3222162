"""Code systems and code lists the decision reads (clinical.md "Codes").

"Verified" in comments = seen in an HL7 or official FHIR source (clinical.md); the
rest come from third-party lists named there. docs/data-contract.md mirrors this file.
"""

from __future__ import annotations

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10_WHO = "http://hl7.org/fhir/sid/icd-10"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
UCUM = "http://unitsofmeasure.org"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

# Labs (LOINC). CRP 1988-5 verified; hs-CRP 30522-7, 76486-0 verified.
CRP = ("1988-5", "30522-7", "76486-0")
ESR = ("4537-7", "30341-2")
WBC = ("6690-2", "26464-8")  # 6690-2 verified
TEMPERATURE = ("8310-5",)
PREGNANCY_STATUS = ("82810-3",)  # verified; value SNOMED 77386006 Pregnant
GESTATIONAL_AGE = ("11884-4", "49051-6")  # 11884-4 verified
AUDIT_C = ("72109-2", "75626-2")  # verified: panel / total score
# Recorded alcohol intake: LOINC 74013-4 "Alcoholic drinks per day" (HL7 IPS example
# Observation); SNOMED 160573003 "Alcohol intake" (C-CDA social history observation, value
# in {drink}/d or {drink}/wk).
ALCOHOL_DRINKS_PER_DAY = ("74013-4",)
ALCOHOL_INTAKE_SNOMED = ("160573003",)
# Joint aspirate (third-party LOINC lists): 621-3 "Bacteria identified in Synovial fluid
# by Culture", 26469-7 "Leukocytes [#/volume] in Synovial fluid".
SYNOVIAL_CULTURE = ("621-3",)
SYNOVIAL_WBC = ("26469-7",)
LAB_CODES = (CRP + ESR + WBC + TEMPERATURE + PREGNANCY_STATUS + GESTATIONAL_AGE + AUDIT_C
             + ALCOHOL_DRINKS_PER_DAY + SYNOVIAL_CULTURE + SYNOVIAL_WBC)
# Every lab Observation the decision reads, as (system, code): the one list the `labs`
# prefetch search asks for and the pre-parse filter keeps (services/descriptors.py).
LAB_CODINGS: tuple[tuple[str, str], ...] = (
    *((LOINC, code) for code in CRP + ESR + WBC + TEMPERATURE + PREGNANCY_STATUS
      + GESTATIONAL_AGE + AUDIT_C + ALCOHOL_DRINKS_PER_DAY),
    *((SNOMED, code) for code in ALCOHOL_INTAKE_SNOMED),
    *((LOINC, code) for code in SYNOVIAL_CULTURE + SYNOVIAL_WBC),
)

# MR hip (and pelvis) study codes, used for DiagnosticReport.code (third-party lists;
# 30687-8 "Hip MRI WO contrast", 30688-6 "Hip MRI W and WO contrast IV").
MR_HIP_STUDY = ("30687-8", "30688-6", "36017-2", "36020-6", "36022-2")

# Imaging modality: DICOM acquisition modality codes (clinical.md). CR and DX are both
# radiographs; a radiograph known only from words ("XR", "X-ray") is recorded as DX.
MODALITY_LABELS = {"MR": "MRI", "CT": "CT", "CR": "radiograph", "DX": "radiograph",
                   "NM": "nuclear medicine scan", "PT": "PET", "US": "ultrasound",
                   "BMD": "DXA"}
MODALITY_PRIORITY = ("MR", "PT", "NM", "CT", "US", "DX", "CR", "BMD")  # PET-CT is a PET
# LOINC radiology codes of hip, pelvis and bone exams by modality: the LOINC radiology
# playbook names each code "<modality> <body part> ..." (e.g. 24762-7 "XR Hip Views",
# 25031-6 "NM Bone Views"); displays of other codes are read for those words too.
# Codes from the LOINC imaging document list (third-party copy, Azure Radiology Insights
# appendix A); the MR hip codes as above.
RADIOLOGY_LOINC = {
    **{code: "MR" for code in MR_HIP_STUDY},
    "24872-4": "MR", "24867-4": "MR",  # MR Pelvis and Hip; MR Pelvis
    "24761-9": "DX", "24762-7": "DX", "26130-5": "DX", "26131-3": "DX", "26132-1": "DX",
    "24535-7": "DX",  # XR Hip single view / views / bilateral / left / right; Acetabulum
    "24760-1": "US",  # US Hip
    "24865-8": "CT", "24866-6": "CT",  # CT Pelvis (W contrast IV)
    "25031-6": "NM", "25032-4": "NM", "24578-7": "NM",  # NM Bone; labelled-WBC; SPECT Bones
}
# HL7 v2 table 0074 diagnostic service sections that name a modality (DiagnosticReport
# category); RAD only says "radiology".
CATEGORY_MODALITY = {"CT": "CT", "NMR": "MR", "NMS": "NM", "RUS": "US", "VUS": "US",
                     "OUS": "US"}
# v2-0074 sections of the laboratory: a report in one of these is not an imaging report.
LAB_CATEGORIES = ("LAB", "MB", "MCB", "HM", "CH", "SP", "CP", "PAT", "SR", "BG", "IMM",
                  "MYC", "VR", "TX", "HLA", "CG", "GE", "OSL")

SNOMED_PREGNANT = "77386006"
SNOMED_POSTPARTUM = ("86569001",)  # postpartum state
SNOMED_ABSENT = ("2667000", "260385009")  # absent, negative: a coded finding denied

# Findings and diagnoses (SNOMED verified in clinical.md).
AVN_SNOMED = ("444849002", "397758007")  # AVN of bone of hip; AVN of bone
INFECTION_SNOMED = ("324481000119107", "1344627004")  # infective arthritis / osteomyelitis of hip
STRESS_FRACTURE_SNOMED = ("240197007",)
INSUFFICIENCY_FRACTURE_SNOMED = ("702561005",)
FEVER_SNOMED = ("386661006",)
OSTEOPOROSIS_SNOMED = ("64859006",)

# ICD-10(-CM) prefixes.
AVN_ICD = ("M87",)  # M87.05x idiopathic, M87.1x drug-induced osteonecrosis
INFECTION_ICD = ("M00", "M01", "M86")  # pyogenic / infective arthritis, osteomyelitis
STRESS_FRACTURE_ICD = ("M84.3",)
INSUFFICIENCY_FRACTURE_ICD = ("M80",)  # osteoporosis with pathological fracture
TOH_ICD = ("M81.6",)  # localized osteoporosis: closest code to TOH
OSTEOPOROSIS_ICD = ("M81.0", "M80")

# AVN risk-factor conditions: (label, SNOMED codes, ICD-10 prefixes, text regex).
RISK_CONDITIONS: tuple[tuple[str, tuple[str, ...], tuple[str, ...], str], ...] = (
    ("sickle cell disease or trait", ("417357006", "16402000"), ("D57",),
     r"sickle[- ]cell|\bhb\s?ss\b|\bhbsc\b|drepanocyt"),
    ("systemic lupus erythematosus", ("55464009",), ("M32",), r"\blupus\b|\bsle\b"),
    ("HIV infection", ("86406008",), ("B20", "Z21"), r"\bhiv\b|human immunodeficiency virus"),
    ("prior avascular necrosis", AVN_SNOMED, AVN_ICD,
     r"avascular necrosis|osteonecrosis|aseptic necrosis|\bavn\b"),
    ("alcohol use disorder", ("7200002", "15167005", "66590003"), ("F10.1", "F10.2"),
     r"alcohol(ism|ic)?\s+(use\s+disorder|abuse|dependence|misuse)|alcoholism|heavy\s+drink"),
    ("organ transplant", ("161663000",), ("Z94", "T86"), r"transplant"),
    ("radiation exposure", (), ("Z92.3",), r"radiation|radiotherapy|irradiat"),
    ("coagulopathy or thrombophilia", (), ("D68",),
     r"coagulopath|thrombophilia|factor v leiden|antiphospholipid|protein [cs] deficien"),
    ("chronic liver disease", (), ("K70", "K74"),
     r"cirrhosis|chronic liver disease|hepatic fibrosis"),
    ("pancreatitis", (), ("K85", "K86.0", "K86.1"), r"pancreatitis"),
    ("Gaucher disease", ("190794006",), ("E75.22",), r"gaucher"),
    ("caisson disease (diving)", (), ("T70.3",), r"caisson|decompression sickness|dysbaric"),
)

# Systemic corticosteroids (clinical.md): RxNorm ingredients and ATC H02AB.
STEROID_RXNORM = {
    "8640": "prednisone", "8638": "prednisolone", "6902": "methylprednisolone",
    "3264": "dexamethasone", "5492": "hydrocortisone", "1514": "betamethasone",
    "10759": "triamcinolone",
}
STEROID_NAMES = tuple(STEROID_RXNORM.values()) + ("cortisone", "deflazacort")
STEROID_ATC_PREFIX = ("H02AB",)
# Routes that are not systemic: topical, cutaneous, transdermal, inhaled, ophthalmic,
# nasal, otic (SNOMED route codes from the FHIR route-codes value set).
NON_SYSTEMIC_ROUTE_SNOMED = ("6064005", "448598008", "45890007", "447694001",
                             "18679011000001101", "54485002", "46713006", "10547007")
NON_SYSTEMIC_ROUTE_TEXT = (
    r"topical|cutaneous|dermal|skin|transdermal|inhal\w*|respiratory|nebuli[sz]\w*|"
    r"ophthalm\w*|\beye\b|intraocular|nasal|intranasal|\botic\b|\bear\b"
)
NON_SYSTEMIC_FORM_TEXT = (
    r"\b(cream|ointment|lotion|gel|foam|topical|inhaler|inhalation|inhaled|nebuli[sz]er|"
    r"mdi|hfa|dpi|nasal|eye\s+drops?|ophthalmic|otic|ear\s+drops?|shampoo|paste)\b"
)

PROCEDURE_CORE_DECOMPRESSION_TEXT = r"core[\s-]+decompress"

# Drugs that blunt CRP, ESR and fever (blunting.py): (kind, ATC prefixes, names). ATC:
# L04AC07 tocilizumab, L04AC14 sarilumab, L04AC other interleukin inhibitors, L04AB TNF
# inhibitors, L04AF JAK inhibitors, L04AA24 abatacept, L01 antineoplastic agents.
BLUNTING_DRUGS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("IL-6 blocker", ("L04AC07", "L04AC14"), ("tocilizumab", "sarilumab", "siltuximab")),
    ("biologic (interleukin inhibitor)", ("L04AC",),
     ("anakinra", "canakinumab", "rilonacept", "secukinumab", "ixekizumab", "ustekinumab")),
    ("biologic (TNF inhibitor)", ("L04AB",),
     ("infliximab", "adalimumab", "etanercept", "certolizumab", "golimumab")),
    ("JAK inhibitor", ("L04AF",), ("tofacitinib", "baricitinib", "upadacitinib", "filgotinib")),
    ("biologic", ("L04AA24", "L01FA01"), ("abatacept", "rituximab")),
    ("chemotherapy", ("L01",), ()),
)
# Prednisone-equivalent factor per mg (standard equivalences: prednisone 5 mg =
# prednisolone 5 = methylprednisolone 4 = triamcinolone 4 = hydrocortisone 20 =
# cortisone 25 = dexamethasone 0.75 = betamethasone 0.6 = deflazacort 6).
PREDNISONE_EQUIVALENT = {
    "prednisone": 1.0, "prednisolone": 1.0, "methylprednisolone": 1.25, "triamcinolone": 1.25,
    "hydrocortisone": 0.25, "cortisone": 0.2, "dexamethasone": 5 / 0.75,
    "betamethasone": 5 / 0.6, "deflazacort": 5 / 6,
}
