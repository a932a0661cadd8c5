"""Hash indexes for fast, exact near-duplicate lookup."""

from brightline.index.pdq_index import (
    DEFAULT_MAX_DISTANCE,
    DuplicateIdError,
    IndexFormatError,
    InvalidHashError,
    PDQIndex,
    PDQIndexError,
    pdq_array_to_hex,
    pdq_hex_to_array,
)
from brightline.index.self_join import pdq_pairs_within

__all__ = [
    "DEFAULT_MAX_DISTANCE",
    "DuplicateIdError",
    "IndexFormatError",
    "InvalidHashError",
    "PDQIndex",
    "PDQIndexError",
    "pdq_array_to_hex",
    "pdq_hex_to_array",
    "pdq_pairs_within",
]
