"""Corpus: scalar."""
