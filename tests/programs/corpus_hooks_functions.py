"""Corpus: hooks_functions."""
