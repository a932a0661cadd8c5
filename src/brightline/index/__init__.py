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

__all__ = [
    "DEFAULT_MAX_DISTANCE",
    "DuplicateIdError",
    "IndexFormatError",
    "InvalidHashError",
    "PDQIndex",
    "PDQIndexError",
    "pdq_array_to_hex",
    "pdq_hex_to_array",
]
