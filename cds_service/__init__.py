"""CDS Hooks service: warns against premature hip core decompression when the
findings suggest transient osteoporosis of the hip (bone marrow edema syndrome)."""

__version__ = "0.1.0"
