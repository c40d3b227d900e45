"""Reading and writing flags, states and segments as core models.

Every row carries a version. Writes name the version they expect and are
refused with :class:`~phased.errors.ConflictError` (naming the current one)
when the row moved on: a stale writer never silently overwrites.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select, update

from phased.core.flags import Flag, FlagSet, FlagState, Segment
from phased.errors import ConflictError
from phased.store.tables import flag_states, flags, segments, store_head


def flag_definition(flag: Flag) -> dict[str, Any]:
    """The stored definition: the flag without its key and environments, defaults left out."""
    data = flag.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    data.pop("key", None)
    data.pop("environments", None)
    return data


def state_document(state: FlagState) -> dict[str, Any]:
    """The stored state of one environment, defaults left out."""
    return state.model_dump(mode="json", exclude_defaults=True)


def segment_definition(segment: Segment) -> dict[str, Any]:
    """The stored segment without its key."""
    data = segment.model_dump(mode="json", exclude_defaults=True)
    data.pop("key", None)
    return data


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A flag set as stored, with the version of every row it came from."""

    flagset: FlagSet
    revision: int
    flag_versions: dict[str, int] = field(default_factory=dict)
    state_versions: dict[tuple[str, str], int] = field(default_factory=dict)
    segment_versions: dict[str, int] = field(default_factory=dict)

    def flag_version(self, key: str) -> int | None:
        """Version of the flag's definition row (None if absent)."""
        return self.flag_versions.get(key)

    def state_version(self, key: str, environment: str) -> int:
        """Version of one environment's state row (0 when it was never written)."""
        return self.state_versions.get((key, environment), 0)


def load(conn: Connection, environments: tuple[str, ...], only: str | None = None) -> Snapshot:
    """The whole flag set (states of every environment, or of ``only``)."""
    revision = int(conn.execute(select(store_head.c.revision)).scalar_one())
    segment_rows = conn.execute(select(segments).order_by(segments.c.key)).all()
    flag_rows = conn.execute(select(flags).order_by(flags.c.key)).all()
    wanted = (only,) if only is not None else environments
    state_rows = conn.execute(
        select(flag_states)
        .where(flag_states.c.environment.in_(wanted))
        .order_by(flag_states.c.flag_key, flag_states.c.environment)
    ).all()
    states: dict[str, dict[str, Any]] = {}
    state_versions: dict[tuple[str, str], int] = {}
    for row in state_rows:
        states.setdefault(row.flag_key, {})[row.environment] = row.state
        state_versions[(row.flag_key, row.environment)] = int(row.version)
    segment_models = {
        row.key: Segment.model_validate({**row.definition, "key": row.key}) for row in segment_rows
    }
    # Environments in file order, so exports list them the way they are configured.
    flag_models = {
        row.key: Flag.model_validate(
            {
                **row.definition,
                "key": row.key,
                "environments": {
                    env: states[row.key][env]
                    for env in environments
                    if env in states.get(row.key, {})
                },
            }
        )
        for row in flag_rows
    }
    flagset = FlagSet(environments=environments, segments=segment_models, flags=flag_models)
    return Snapshot(
        flagset=flagset,
        revision=revision,
        flag_versions={row.key: int(row.version) for row in flag_rows},
        state_versions=state_versions,
        segment_versions={row.key: int(row.version) for row in segment_rows},
    )


def revision(conn: Connection) -> int:
    """The store revision."""
    return int(conn.execute(select(store_head.c.revision)).scalar_one())


def bump_revision(conn: Connection) -> int:
    """Advance the store revision (once per mutation); returns the new value."""
    conn.execute(
        update(store_head).where(store_head.c.id == 1).values(revision=store_head.c.revision + 1)
    )
    return revision(conn)


def _stale(what: str, expected: int, conn: Connection, current_stmt: Any) -> ConflictError:
    current = conn.execute(current_stmt).scalar_one_or_none()
    now = "it was deleted" if current is None else f"it is now at version {current}"
    return ConflictError(
        f"{what} changed since version {expected}: {now}; reload it and retry",
        field="version",
    )


# Flags and segments are the same kind of row: a key, a JSON definition and a
# version that every write checks. One set of helpers writes both.


def _insert_definition(
    conn: Connection, table: Table, key: str, definition: dict[str, Any], now: datetime
) -> None:
    conn.execute(
        insert(table).values(
            key=key, definition=definition, version=1, created_at=now, updated_at=now
        )
    )


def _update_definition(
    conn: Connection,
    table: Table,
    *,
    what: str,
    key: str,
    definition: dict[str, Any],
    expected: int,
    now: datetime,
) -> int:
    result = conn.execute(
        update(table)
        .where(table.c.key == key, table.c.version == expected)
        .values(definition=definition, version=expected + 1, updated_at=now)
    )
    if result.rowcount != 1:
        raise _stale(
            f"{what} {key!r}", expected, conn, select(table.c.version).where(table.c.key == key)
        )
    return expected + 1


def _delete_definition(conn: Connection, table: Table, what: str, key: str, expected: int) -> None:
    result = conn.execute(delete(table).where(table.c.key == key, table.c.version == expected))
    if result.rowcount != 1:
        raise _stale(
            f"{what} {key!r}", expected, conn, select(table.c.version).where(table.c.key == key)
        )


def insert_flag(conn: Connection, flag: Flag, now: datetime) -> None:
    """Create the definition row (version 1)."""
    _insert_definition(conn, flags, flag.key, flag_definition(flag), now)


def update_flag(conn: Connection, flag: Flag, expected: int, now: datetime) -> int:
    """Replace the definition if it is still at ``expected``; returns the new version."""
    return _update_definition(
        conn,
        flags,
        what="flag",
        key=flag.key,
        definition=flag_definition(flag),
        expected=expected,
        now=now,
    )


def delete_flag(conn: Connection, key: str, expected: int) -> None:
    """Delete the flag and its states if it is still at ``expected``."""
    conn.execute(delete(flag_states).where(flag_states.c.flag_key == key))
    _delete_definition(conn, flags, "flag", key, expected)


def write_state(
    conn: Connection,
    key: str,
    *,
    environment: str,
    state: FlagState | None,
    expected: int,
    now: datetime,
) -> int:
    """Write (or with ``state=None`` remove) one environment's state; ``expected`` 0 = absent."""
    where = (flag_states.c.flag_key == key, flag_states.c.environment == environment)
    what = f"flag {key!r} in {environment}"
    current = select(flag_states.c.version).where(*where)
    if expected == 0:
        if state is None:
            return 0
        exists = conn.execute(current).scalar_one_or_none()
        if exists is not None:
            raise _stale(what, 0, conn, current)
        conn.execute(
            insert(flag_states).values(
                flag_key=key,
                environment=environment,
                state=state_document(state),
                version=1,
                updated_at=now,
            )
        )
        return 1
    if state is None:
        result = conn.execute(delete(flag_states).where(*where, flag_states.c.version == expected))
    else:
        result = conn.execute(
            update(flag_states)
            .where(*where, flag_states.c.version == expected)
            .values(state=state_document(state), version=expected + 1, updated_at=now)
        )
    if result.rowcount != 1:
        raise _stale(what, expected, conn, current)
    return 0 if state is None else expected + 1


def insert_segment(conn: Connection, segment: Segment, now: datetime) -> None:
    """Create a segment row (version 1)."""
    _insert_definition(conn, segments, segment.key, segment_definition(segment), now)


def update_segment(conn: Connection, segment: Segment, expected: int, now: datetime) -> int:
    """Replace a segment if it is still at ``expected``."""
    return _update_definition(
        conn,
        segments,
        what="segment",
        key=segment.key,
        definition=segment_definition(segment),
        expected=expected,
        now=now,
    )


def delete_segment(conn: Connection, key: str, expected: int) -> None:
    """Delete a segment if it is still at ``expected``."""
    _delete_definition(conn, segments, "segment", key, expected)
