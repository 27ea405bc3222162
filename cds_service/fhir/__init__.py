"""FHIR R4 data handling: selective parsing into fhir.resources R4B models, and the client."""
