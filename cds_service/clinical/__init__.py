"""Pure clinical logic: facts from FHIR, text reading, the assessment and its evidence.

No Flask, no HTTP, no CDS Hooks: services/ turns a hook call into facts and an assessment
into cards (tests/test_layers.py holds the import contract).
"""
