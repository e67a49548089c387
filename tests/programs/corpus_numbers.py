"""Corpus: numbers."""
