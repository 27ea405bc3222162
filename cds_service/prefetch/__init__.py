"""Prefetch: pure template rendering and key resolution, plus the fetch orchestration."""
