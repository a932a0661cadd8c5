"""Bringing content in from outside: safe URL fetching."""
