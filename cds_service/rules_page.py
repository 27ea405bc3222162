"""GET /rules: the rules the service applies, in plain words, with the values in use.

Why: every card's `source.url` points here, so a surgeon who wonders why a card appeared
(or did not) can read the rule behind it, and an informaticist can check the thresholds
and trigger codes this deployment runs with. Generated from the loaded catalog and
settings, never written by hand, so it cannot drift from what the service does. Plain
HTML without scripts: readable in any browser, printable, behind any proxy.
"""

from __future__ import annotations

from html import escape

from cds_service.clinical.orders import REPEAT_MRI_WEEKS
from cds_service.clinical.thresholds import Thresholds
from cds_service.services.card_topics import INFORMATIONAL, TOPICS
from cds_service.services.definitions import Catalog

_STYLE = ("body{font-family:system-ui,sans-serif;max-width:48em;margin:2em auto;padding:0 1em;"
          "line-height:1.5;color:#111}table{border-collapse:collapse}th,td{border:1px solid "
          "#bbb;padding:.25em .5em;text-align:left;vertical-align:top}code{font-size:.95em}")
# Threshold -> what it does, in words (every field of Thresholds must be here: tested).
MEANING = {
    "crp_mg_per_l": "CRP above this (mg/L) is raised, when the lab sends no range or flag",
    "esr_mm_per_h": "ESR above this (mm/h) is raised, when the lab sends no range or flag and "
                    "the age is unknown (else age/2 for men, (age+10)/2 for women)",
    "wbc_10e9_per_l": "WBC above this (10^9/L) is raised, when the lab sends no range or flag",
    "temperature_c": "a temperature at or above this (°C) is a fever",
    "lab_max_age_days": "labs older than this (days) cannot exclude an infection now",
    "mri_max_age_days": "a hip MRI older than this (days) is too old to decide on",
    "migration_window_days": "an earlier episode within this many days counts for the "
                             "migratory pattern",
    "steroid_lookback_days": "systemic corticosteroids within this many days are an AVN risk "
                             "factor",
    "raised_lab_lookback_days": "a raised marker never rechecked stays a red flag this long "
                                "(days)",
    "insufficiency_fracture_age_years": "from this age a bare subchondral fracture reads as an "
                                        "insufficiency fracture",
    "synovial_wbc_exclusion_per_ul": "a hip aspirate's white count below this (/uL) excludes "
                                     "infection",
    "synovial_wbc_septic_per_ul": "a hip aspirate's white count at or above this (/uL) is a "
                                  "red flag",
    "high_dose_steroid_mg_per_day": "prednisone-equivalent mg/day from which steroids blunt "
                                    "CRP and fever",
    "blunting_lookback_days": "a marker-blunting drug taken within this many days still blunts",
}


def _decisions(t: Thresholds, informational: bool) -> list[tuple[str, str]]:
    """(topic, rule in words), in the order the service tries them: safety first."""
    shown = "shown" if informational else "not shown (<code>[cards] informational = false</code>)"
    return [
        ("infection-not-excluded", (f"A raised CRP, ESR or WBC within {t.lab_max_age_days} days "
          f"(or raised within {t.raised_lab_lookback_days} days and never rechecked), judged by "
          "the lab's own range and flag first; a fever of "
          f"{t.temperature_c:g} °C or more; infection described or suspected on imaging; or "
          "an infection on the problem list. Unless a final test of the hip on record excludes "
          "it (aspirate with no growth or a white count below "
          f"{t.synovial_wbc_exclusion_per_ul:g} /uL, PET-CT or labelled scan without "
          "infection); a test that found infection (organisms, or a white count of "
          f"{t.synovial_wbc_septic_per_ul:g} /uL or more) is itself a red flag. Normal markers do not reassure while steroids of "
          f"{t.high_dose_steroid_mg_per_day:g} mg/day or more, or other blunting drugs taken "
          f"within {t.blunting_lookback_days} days, may hide an infection.")),
        ("imaging-needed", (f"No readable MRI of the ordered hip within {t.mri_max_age_days} "
          "days. The card says which: none on record, too old (its age in days and the limit), "
          "or present but without a readable report. Radiographs and bone scans do not count: "
          "they stay normal or are not specific for weeks.")),
        ("avn-features", ("An AVN sign on recent imaging (double-line sign, crescent, collapse, "
          "a demarcated lesion), or an AVN risk factor (systemic corticosteroids within "
          f"{t.steroid_lookback_days} days, heavy alcohol use, sickle cell disease, prior AVN "
          "and others): no transient osteoporosis warning, because early AVN can show edema "
          f"only. This informational card is {shown}.")),
        ("other-lesion", ("A stress or insufficiency fracture, or a tumour, on recent imaging "
          "(a bare subchondral fracture counts as insufficiency fracture from age "
          f"{t.insufficiency_fracture_age_years}, or with osteoporosis): no warning. This "
          f"informational card is {shown}.")),
        ("toh-suspected", ("Otherwise, edema of the femoral head or neck (or transient "
          "osteoporosis named) on a recent MRI: a warning against core decompression now, "
          "with the conservative plan offered (protected weight bearing and physiotherapy, a "
          f"repeat MRI {REPEAT_MRI_WEEKS[0]}-{REPEAT_MRI_WEEKS[1]} weeks from the day of the "
          "card) and the draft order's removal.")),
    ]


def _triggers(catalog: Catalog) -> str:
    rows = []
    for trigger in catalog.triggers.values():
        for code in trigger.codes:
            needs = (f"only with order text matching <code>{escape(' or '.join(code.requires_text))}"
                     "</code>" if code.requires_text else "")
            rows.append(f"<tr><td>{escape(code.code)}</td><td>{escape(code.display or '')}</td>"
                        f"<td><code>{escape(code.system)}</code></td><td>{needs}</td></tr>")
        for pattern in trigger.text_patterns:
            rows.append(f"<tr><td colspan=\"3\">uncoded order, text matching <code>"
                        f"{escape(pattern)}</code></td><td></td></tr>")
    return ("<table><tr><th>code</th><th>meaning</th><th>system</th><th>condition</th></tr>"
            + "".join(rows) + "</table>")


def rules_html(t: Thresholds, catalog: Catalog, informational: bool = True) -> str:
    """The whole page."""
    services = "".join(
        f"<li><strong>{escape(s.title)}</strong> (<code>{escape(s.id)}</code>, hook "
        f"<code>{escape(s.hook)}</code>): {escape(s.description)}</li>"
        for s in catalog.services.values())
    decisions = "".join(
        f'<li id="{topic}"><strong>{escape(TOPICS[topic][0])}</strong> '
        f"({'informational' if topic in INFORMATIONAL else TOPICS[topic][1]} card): "
        f"{text}</li>" for topic, text in _decisions(t, informational))
    thresholds = "".join(
        f"<tr><td><code>{name}</code></td><td>{getattr(t, name):g}</td>"
        f"<td>{escape(MEANING.get(name, 'see docs/data-contract.md'))}</td></tr>"
        for name in Thresholds.model_fields)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hip core decompression check: the rules</title><style>{_STYLE}</style></head>
<body>
<h1>Hip core decompression check: the rules</h1>
<p>Transient osteoporosis of the hip (bone marrow edema syndrome) and its migratory form
resolve by themselves within months, but on MRI they are often read as early avascular
necrosis (AVN), and a core decompression is ordered. This service checks such an order
against the patient's record and warns before an avoidable, irreversible operation. It
gives at most one card per order; it never blocks the order.</p>
<h2 id="services">Services</h2><ul>{services}</ul>
<h2 id="triggers">Which orders are checked</h2>
<p>A draft ServiceRequest with one of these codes, or with no known code and order text
that names a core decompression of the hip:</p>{_triggers(catalog)}
<h2 id="decisions">The decision, in safety order</h2>
<p>The service reads the hip MRI reports, labs, pregnancy, AVN risk factors, steroids and
earlier joint episodes, then gives the first of these that applies to the ordered hip:</p>
<ol>{decisions}</ol>
<p id="no-card">No card when a recent, readable MRI of the ordered hip shows none of these
(for example "no bone marrow edema").</p>
<h2 id="tmo-migration">On opening the chart: the migratory pattern</h2>
<p>Bone marrow edema in a new joint (the other hip, a knee, ankle or foot), after an earlier
episode in another joint that resolved or improved and began within
{t.migration_window_days} days before it, gives an informational card: transient
migratory osteoporosis is self-limiting, and an irreversible procedure should wait.</p>
<h2 id="card">What a card says</h2>
<p>A summary with the decision and the fact it turns on (and pregnancy, both hips or
steroids when they change it); then at most five short bullets: the decisive finding with a
short dated quote from the report, what is absent, the labs with the limit applied, the risk
factors, and the plan. The records a card rests on are kept with the card (for feedback
review) and shown in the evidence timeline it links to.</p>
<h2 id="settings">Thresholds in use</h2>
<table><tr><th>setting (<code>[clinical]</code>)</th><th>value</th><th>what it does</th></tr>
{thresholds}</table>
<p>Informational cards: {"shown" if informational else "not shown"}
(<code>[cards] informational</code>).</p>
</body></html>
"""
