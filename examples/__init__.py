"""Example flags, plans, traffic models and golden scenarios (importable for --target)."""
