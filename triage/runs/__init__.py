"""Across runs: two runs compared side by side."""
