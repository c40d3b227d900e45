"""What ``phased serve`` checks before it changes anything.

A busy port, a database path that cannot be written or a bad setting must be
one line on stderr and exit 1 with nothing created and no token printed. So
the order is: settings (:func:`load_server_settings`), the port — bound here
and handed to uvicorn, so no other process can take it in between
(:func:`bind`), the database path (:func:`check_database`); only then the
store is opened (and migrated), the alert channels are checked and the first
admin token is minted. A SQLite file that this start created is removed again
if a later check refuses (:func:`forget_new_sqlite`).
"""

from __future__ import annotations

import errno
import socket
import tempfile
from pathlib import Path
from typing import Any

from phased.errors import ConfigurationError
from phased.server.config import ServerSettings
from phased.settings import load_settings
from phased.store.url import sqlite_path


def load_server_settings(**values: Any) -> ServerSettings:
    """:class:`ServerSettings`; a bad value is a :class:`ConfigurationError` naming it."""
    settings = load_settings(settings_class=ServerSettings, **values)
    assert isinstance(settings, ServerSettings)
    return settings


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``, or a one-line refusal.

    Raises:
        ConfigurationError: the port is taken, or the address is not this machine's.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigurationError(
            f"host: cannot resolve {host!r} ({exc.strerror}); use an address of this "
            "machine, e.g. --host 127.0.0.1 or PHASED_HOST",
            field="host",
        ) from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigurationError(
                f"port: {port} on {host} is already in use; stop the other server or pick "
                "another port with --port or PHASED_PORT",
                field="port",
            ) from None
        raise ConfigurationError(
            f"host: cannot listen on {host}:{port} ({exc.strerror}); use --host/--port "
            "or PHASED_HOST/PHASED_PORT",
            field="host",
        ) from None
    sock.set_inheritable(True)
    return sock


def check_database(url: str) -> None:
    """Refuse a SQLite file this process could not create or write, before touching it.

    Other databases are checked by opening them (``open_store`` names the problem).

    Raises:
        ConfigurationError: the directory is missing or read-only, or the file is read-only.
    """
    path = sqlite_path(url)
    if path is None:
        return
    parent = path.parent
    if not parent.is_dir():
        raise ConfigurationError(
            f"database_url: the directory {parent} of the SQLite file does not exist; "
            "create it first or point --db / PHASED_DATABASE_URL elsewhere",
            field="database_url",
        )
    if path.exists():
        try:
            with path.open("r+b"):
                pass
        except OSError as exc:
            raise ConfigurationError(
                f"database_url: cannot write the SQLite file {path} ({exc.strerror}); "
                "fix its permissions or point --db / PHASED_DATABASE_URL elsewhere",
                field="database_url",
            ) from None
    # SQLite keeps its journal next to the file: the directory must take a new file.
    # A probe says so for every user (root included) and leaves nothing behind.
    try:
        with tempfile.NamedTemporaryFile(dir=parent, prefix=".phased-probe-"):
            pass
    except OSError as exc:
        raise ConfigurationError(
            f"database_url: cannot create files in {parent} ({exc.strerror}); SQLite keeps "
            "its file and journal there; fix its permissions or point --db elsewhere",
            field="database_url",
        ) from None


def forget_new_sqlite(path: Path | None) -> None:
    """Remove a SQLite file (and its journal) that this start created and then refused."""
    if path is None:
        return
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
