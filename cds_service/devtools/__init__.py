"""Developer tools: fixture patients and the hook requests an EHR would send for them
(`fixture_data`, `fixture_dates`, `local_fhir`), loading bundles into a FHIR server
(`loader`), and acting as the EHR (`invoke`).

The tests, `bench/` and the CLI's dev subcommands (`invoke`, `fixtures load`, which
import them lazily) use these; the service never imports them while it serves, and
they read `fixtures/` from the source checkout, which a wheel does not hold.
"""
