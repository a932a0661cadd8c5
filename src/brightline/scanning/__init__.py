"""Scanning: walk directory trees and hash every file, in parallel, safely."""

from brightline.scanning.walk import FileProblem, iter_files
from brightline.scanning.workers import HashOutcome, hash_paths

__all__ = ["FileProblem", "HashOutcome", "hash_paths", "iter_files"]
