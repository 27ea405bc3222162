"""Clinical thresholds, all configurable (`[clinical]` in the TOML config)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Thresholds(BaseModel):
    """Cut-offs for the assessment. Defaults and their sources are in the comments."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # The CRP, ESR and WBC limits apply only when the lab sends no reference range or
    # flag of its own (lab_limits.py; the ESR of an adult of known age takes the age- and
    # sex-adjusted limit instead, Miller 1983).
    # CRP upper reference limit 10 mg/L (common laboratory reference; the second seed
    # case had 140.5 and needed bone scan and PET-CT before TOH was accepted).
    crp_mg_per_l: float = Field(default=10.0, gt=0)
    # ESR: Westergren upper limit, about 20 mm/h for adults, when the age is unknown.
    esr_mm_per_h: float = Field(default=20.0, gt=0)
    # WBC: upper reference limit 11 x10^9/L (11,000 /uL).
    wbc_10e9_per_l: float = Field(default=11.0, gt=0)
    # Fever: 38.0 C.
    temperature_c: float = Field(default=38.0, gt=30)
    # Labs older than this do not exclude an infection now (clinical.md: normal labs
    # some weeks earlier do not exclude an infection now).
    lab_max_age_days: int = Field(default=14, gt=0)
    # A hip MRI older than this is stale: edema evolves over weeks (clinical.md: repeat
    # MRI in about 6-8 weeks), so default 6 weeks.
    mri_max_age_days: int = Field(default=42, gt=0)
    # Migratory recurrence reported up to about 3 years after the first joint
    # (clinical.md: a strict 2-year window misses cases).
    migration_window_days: int = Field(default=3 * 365, gt=0)
    # Systemic corticosteroids within this window count as an AVN risk factor
    # (AVN typically within 1-3 months of high doses; a year gives margin).
    steroid_lookback_days: int = Field(default=365, gt=0)
    # A raised CRP/ESR/WBC older than lab_max_age_days still counts as a red flag for this
    # long when no later value is available: a raised marker never rechecked has not been
    # explained (clinical.md: infection must be excluded first).
    raised_lab_lookback_days: int = Field(default=90, gt=0)
    # A bare "subchondral fracture" reads as subchondral insufficiency fracture (another
    # lesion) from this age, or at any age with osteoporosis (clinical.md: SIF in older
    # osteoporotic patients). Younger, with diffuse edema, it stays compatible with TOH:
    # the second seed case (a 50-year-old man) had a subchondral fracture line with TOH.
    insufficiency_fracture_age_years: int = Field(default=60, gt=0)
    # Synovial white cell count of a hip aspirate: below this (/uL) the fluid is
    # non-inflammatory and counts as excluding septic arthritis; at or above the septic
    # limit it is a red flag. Classical synovial fluid classes (non-inflammatory < 2,000,
    # inflammatory 2,000-50,000, septic > 50,000 /uL); >= 50,000 /uL has a likelihood
    # ratio of about 7.7 for septic arthritis (Margaretten et al., JAMA 2007;297:1478).
    synovial_wbc_exclusion_per_ul: float = Field(default=2000.0, gt=0)
    synovial_wbc_septic_per_ul: float = Field(default=50000.0, gt=0)
    # Systemic corticosteroids at or above this prednisone-equivalent dose per day blunt
    # CRP and fever (>= 20 mg/day is "high-level immunosuppression": IDSA guideline for
    # vaccination of the immunocompromised host, Rubin et al., Clin Infect Dis 2014;58:e44).
    high_dose_steroid_mg_per_day: float = Field(default=20.0, gt=0)
    # A marker-blunting drug taken within this many days still blunts: tocilizumab is
    # given every 1-4 weeks and its CRP suppression outlasts the dosing interval; 90 days
    # covers the longest intervals (rituximab, monthly biologics) with margin.
    blunting_lookback_days: int = Field(default=90, gt=0)
    # AUDIT-C (0-12): a positive screen at >= 4 for men (Bush K et al., Arch Intern Med
    # 1998;158:1789) and >= 3 for women (Bradley KA et al., Alcohol Clin Exp Res
    # 2007;31:1208; also used for unknown sex): a weak factor, named on the card. 8-12 is
    # high risk (severe misuse; Rubinsky AD et al., Alcohol Clin Exp Res 2013;37:1380):
    # an AVN risk factor.
    audit_c_positive_men: int = Field(default=4, ge=1, le=12)
    audit_c_positive_women: int = Field(default=3, ge=1, le=12)
    audit_c_high_risk: int = Field(default=8, ge=1, le=12)
    # Recorded intake at or above this much ethanol a week is heavy use: alcohol-associated
    # osteonecrosis needs > 400 mL/week (320 g) for over 6 months, the osteonecrosis
    # diagnosed within a year of it (ARCO criteria, Yoon BH et al., J Arthroplasty
    # 2019;34:169; Hirota Y et al., Am J Epidemiol 1993;137:530: relative risk ~10 from
    # 400 mL/week).
    heavy_alcohol_ml_per_week: float = Field(default=400.0, gt=0)
    # Grams of ethanol in one "drink" when an intake is recorded in drinks: the US
    # standard drink, 14 g (NIAAA). UK units are 8 g (NHS), grams are grams.
    standard_drink_g: float = Field(default=14.0, gt=0)
    # A high-risk AUDIT-C or heavy intake older than this is named, no longer a risk
    # factor (ARCO: the osteonecrosis follows the drinking within a year).
    alcohol_lookback_days: int = Field(default=365, gt=0)
