"""What an alert is: the model lives in :mod:`phased.core.alerts`, where the store can use it.

Kept so that ``from phased.alerts.model import Alert`` goes on working.
"""

from __future__ import annotations

from phased.core.alerts import Alert, Severity

__all__ = ["Alert", "Severity"]
