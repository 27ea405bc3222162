"""Pure clinical logic: facts from FHIR, text reading, assessment, cards. No Flask, no HTTP."""
