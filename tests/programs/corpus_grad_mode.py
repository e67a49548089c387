"""Corpus: grad_mode."""
