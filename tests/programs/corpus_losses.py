"""Corpus: losses."""
