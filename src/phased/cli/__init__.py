"""The ``phased`` command line: one module per command group."""
