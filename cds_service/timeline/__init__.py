"""The evidence timeline: the SMART app's view of the same facts and assessment the
hook services use (docs/smart-app.md). fetch.py does the I/O; the rest is pure."""
