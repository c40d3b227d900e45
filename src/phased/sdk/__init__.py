"""The application side: ``phased.Client`` and outcome tracking."""
