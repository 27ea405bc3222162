"""Declarative CDS service definitions (hooks/*.toml) and the handlers they dispatch to.

One folder per handler (core_decompression/, migration/): the adapter from a hook call to
the clinical core's facts and assessment, and the cards that present it.
"""
