"""The ``/api/v1`` routers, their dependencies and schemas."""
