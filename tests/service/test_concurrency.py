"""Concurrent writers: nobody silently overwrites anybody, and the chain never forks."""

from __future__ import annotations

import threading
from collections.abc import Callable

from phased.errors import ConflictError
from phased.service import audit, flags, rollouts
from phased.store.engine import Store

StoreFactory = Callable[[], Store]


def _race(*jobs: Callable[[], object]) -> list[BaseException | None]:
    barrier = threading.Barrier(len(jobs))
    outcomes: list[BaseException | None] = [None] * len(jobs)

    def run(i: int) -> None:
        barrier.wait()
        try:
            jobs[i]()
        except BaseException as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


class TestTwoWriters:
    """Two writers read the same version of a flag; the second write is refused."""

    def test_one_conflict_and_a_valid_chain(
        self, seeded: Store, open_another: StoreFactory
    ) -> None:
        version = flags.get_flag(seeded, "awf_bundle").state_versions["prod"]
        a, b = open_another(), open_another()
        outcomes = _race(
            lambda: rollouts.set_rollout(
                a,
                actor="alice",
                key="awf_bundle",
                environment="prod",
                percent=25,
                expected_version=version,
            ),
            lambda: rollouts.set_rollout(
                b,
                actor="bob",
                key="awf_bundle",
                environment="prod",
                percent=50,
                expected_version=version,
            ),
        )
        conflicts = [o for o in outcomes if isinstance(o, ConflictError)]
        assert len(conflicts) == 1, outcomes
        assert outcomes.count(None) == 1
        assert f"version {version + 1}" in str(conflicts[0])
        winner = 25 if outcomes[0] is None else 50
        assert flags.get_flag(seeded, "awf_bundle").flag.state("prod").rollout == winner
        report = audit.verify(seeded)
        assert report.ok, report.summary()


class TestManyWriters:
    """Unversioned writers queue behind the write lock; every change lands in one chain."""

    def test_serialised(self, seeded: Store, open_another: StoreFactory) -> None:
        stores = [open_another() for _ in range(3)]
        start = audit.verify(seeded).entries

        def writer(store: Store, env: str, n: int) -> Callable[[], None]:
            def run() -> None:
                for i in range(n):
                    rollouts.set_rollout(
                        store, actor=env, key="awf_bundle", environment=env, percent=i + 1
                    )

            return run

        outcomes = _race(
            *(writer(s, env, 6) for s, env in zip(stores, ("dev", "staging", "prod"), strict=True))
        )
        assert outcomes == [None, None, None]
        report = audit.verify(seeded)
        assert report.ok, report.summary()
        assert report.entries == start + 18
        assert seeded.revision() == start + 18
