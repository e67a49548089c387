"""Corpus: methods."""
