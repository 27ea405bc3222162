"""Declarative CDS service definitions (hooks/*.toml) and the logic they dispatch to."""
