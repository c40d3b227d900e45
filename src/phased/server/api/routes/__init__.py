"""One router per resource; :data:`ROUTERS` is the list the app mounts."""
