"""Peer libraries for the evaluation benchmark, one module each.

Every module defines ``PEER``: the package it needs and a ``build(workdir)``
that writes the scenario's flag in the library's own offline format and
returns the library's rows. Library imports happen inside ``build``, so this
registry imports without any peer installed.
"""

from __future__ import annotations

from benchmarks.peers import (
    flagd_peer,
    flagsmith_peer,
    growthbook_peer,
    launchdarkly_peer,
    unleash_peer,
)
from benchmarks.peers.base import Peer, importable

PEERS: tuple[Peer, ...] = (
    growthbook_peer.PEER,
    launchdarkly_peer.PEER,
    unleash_peer.PEER,
    flagd_peer.PEER,
    flagsmith_peer.PEER,
)


def installed(peer: Peer) -> bool:
    """Whether the peer's package can be imported here."""
    return importable(peer.package)
