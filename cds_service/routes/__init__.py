"""Thin Flask views: parse, delegate to the pipeline or the store, encode."""
