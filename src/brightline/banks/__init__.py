"""Banks: named lists of hashes with provenance, their import/export formats and service."""
