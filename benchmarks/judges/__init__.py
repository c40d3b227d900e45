"""Judges compared by benchmarks/judge.py: phased and faithful re-implementations of peers."""
