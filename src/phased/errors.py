"""The one error hierarchy of phased.

Every error carries a stable ``code`` (mapped to an HTTP status in one place by
the server, to exit code 1 by the CLI), the ``field`` it is about when there is
one, and a message that names the value and the fix.
"""

from __future__ import annotations

from typing import ClassVar


class PhasedError(Exception):
    """Base class: something phased refused or could not do."""

    code: ClassVar[str] = "error"
    http_status: ClassVar[int] = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        if self.field and not self.message.startswith(self.field):
            return f"{self.field}: {self.message}"
        return self.message

    def to_dict(self) -> dict[str, str | None]:
        """The JSON body used by the API and ``--json`` output."""
        return {"code": self.code, "message": str(self), "field": self.field}


class ValidationError(PhasedError):
    """Input is malformed or out of range (a key, a percentage, a plan field)."""

    code = "invalid"
    http_status = 422


class SourceError(ValidationError):
    """A file (flags, plan, traffic model) could not be parsed or validated.

    The message starts with ``file:line: field``.
    """

    code = "invalid_file"

    def __init__(
        self, message: str, *, path: str, line: int | None = None, field: str | None = None
    ) -> None:
        self.path = path
        self.line = line
        where = f"{path}:{line}" if line is not None else path
        prefix = f"{where}: {field}: " if field else f"{where}: "
        super().__init__(prefix + message, field=field)

    def __str__(self) -> str:
        return self.message


class NotFoundError(PhasedError):
    """The named flag, segment, override, plan or entry does not exist."""

    code = "not_found"
    http_status = 404


class ConflictError(PhasedError):
    """A stale write (versioned row changed underneath) or a duplicate create."""

    code = "conflict"
    http_status = 409


class PermissionDeniedError(PhasedError):
    """The actor's role does not allow this change (or four-eyes is violated)."""

    code = "forbidden"
    http_status = 403


class AuthenticationError(PhasedError):
    """No valid token or actor was given."""

    code = "unauthenticated"
    http_status = 401


class RateLimitedError(PhasedError):
    """Too many mutations in a short time."""

    code = "rate_limited"
    http_status = 429


class ConfigurationError(PhasedError):
    """The process is configured inconsistently (e.g. alerts on, no channel)."""

    code = "misconfigured"
    http_status = 500


class AuditChainError(PhasedError):
    """The audit chain does not verify: an entry was edited or removed by hand."""

    code = "audit_chain_broken"
    http_status = 500


class DeliveryError(PhasedError):
    """A channel did not accept an alert.

    ``retry_after`` is the server's own wait (a 429); ``permanent`` means a
    retry cannot help (a 404 for a deleted webhook, a 400 for a bad payload).
    """

    code = "delivery_failed"
    http_status = 502

    def __init__(
        self,
        message: str,
        *,
        channel: str,
        retry_after: float | None = None,
        permanent: bool = False,
    ) -> None:
        super().__init__(message, field=f"channels.{channel}")
        self.channel = channel
        self.retry_after = retry_after
        self.permanent = permanent


class SourceQueryError(PhasedError):
    """A metric source gave no usable number: down, slow, refused the query, or empty.

    The engine records it as an ``inconclusive`` check; the message is redacted.
    """

    code = "source_query_failed"
    http_status = 502

    def __init__(self, message: str, *, source: str) -> None:
        super().__init__(message, field=f"sources.{source}")
        self.source = source


class DeprecatedCommandError(PhasedError):
    """An old command was removed by its migration (``phased.migrate.deprecation``)."""

    code = "removed"
    http_status = 410
