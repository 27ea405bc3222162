"""Pydantic models of the CDS Hooks 2.0 wire format (https://cds-hooks.hl7.org/2.0/)."""
