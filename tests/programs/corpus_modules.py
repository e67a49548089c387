"""Corpus: modules."""
