"""The typed way from a client (the CLI, the dashboard) to phased's use cases.

:class:`~phased.backend.protocol.Backend` is what a client programs
against; :mod:`phased.backend.local` implements it over the service layer
(a database), :mod:`phased.backend.http` over the HTTP API (a server).
"""
