"""Corpus: indexing."""
