"""An exact rejection threshold for the rate test, computed from the null law of its labels.

The rate test (``evalue``) rejects when its mixture e-value reaches a
threshold. Ville's inequality makes ``1/alpha`` safe for any test
supermartingale, but it is tight only for a process that lands exactly on the
threshold; the label test moves in jumps (at a 5 % share one candidate error
multiplies the 5x component by 4.2) and overshoots it, so at ``1/alpha`` it
rejects a healthy candidate with probability about ``0.65 alpha``. Because the
labels' null law is Bernoulli(``p``) whatever the base rate, the crossing
probability of any threshold can be computed exactly, by dynamic programming
over (events ``k``, candidate events ``j``), and the threshold lowered until it
spends the whole ``alpha``.

What is computed is an upper bound ``V(0, 0)`` on the false-rollback
probability of this rule, for the share ``p`` of the rollout's first stage:

* while every stage so far has the same (rounded) share ``p``, reject when the
  e-value reaches ``c``;
* once a stage with another share has data, reject at ``1/(LATER_ALPHA * alpha)``.

The engine ends a stage whenever it decides to, which may depend on the very
data tested, so the bound is an optimal-stopping value: backwards from a
horizon of ``N`` events,

    V(k, j) = 1                                          if E(k, j) >= c (rejected)
    V(k, j) = max(LATER_ALPHA * alpha * E(k, j),         (the stage ends here; Ville
                  p V(k+1, j+1) + (1-p) V(k+1, j))        bounds the rest)  otherwise
    V(N, j) = min(1, E(N, j) / c)                        (Ville from N on)

``V`` is nondecreasing in ``j``, so it is superharmonic under any label
probability ``<= p``, chosen afresh before every event: the bound holds for
null ratios below the tolerated one and for a share that drifts below ``p``.
That is why the e-value itself uses the share rounded *up* to a grid of
``SHARE_STEP`` in logit (``grid_share``): the e-value only falls when its share
rises, and the threshold for a grid share is then valid for every share in
the cell below it. States more than eight standard deviations below the mean
path are merged into the lowest kept state, which only raises ``V``.
The threshold is the smallest ``c`` on a bisection in ``[0.5/alpha, 1/alpha]``
with ``V(0, 0) <= alpha``; ``1/alpha`` always qualifies (then ``V <= alpha E``).

Thresholds are cached per (alpha, share cell): ``decide`` runs every minute and
``phased judge`` thousands of runs; a cell costs about 10-500 ms once.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from functools import lru_cache

from phased.core.analysis.evalue import RATE_PRIOR

SHARE_STEP = 0.01
"""Width of a share cell in logit units (about 1 % of the share, or of 1 - share)."""

LATER_ALPHA = 0.9
"""After the rollout's share changes, rates are tested at ``1/(LATER_ALPHA * alpha)``.

The reserve is what makes the first stage's lower threshold composable with
later stages at all: with ``LATER_ALPHA = 1`` the engine could end a stage just
below the threshold and hand Ville's full ``alpha * E`` on to the next one.
0.9 costs later stages 0.105 nats and leaves the first stage 0.68/alpha at a
5 % share (0.654/alpha if it were the only stage)."""

MIN_SHARE = 0.005
"""Below this null share the horizon grows past 8,000 events; ``1/alpha`` is used."""

MAX_SHARE = 0.95
"""Above this the labels move in steps too small to overshoot; ``1/alpha`` is used."""

_EVENTS_PER_SHARE = 40.0  # horizon: 40 expected candidate events, at least 400 events
_MIN_HORIZON = 400
_SPREAD = 8.0  # states below the mean path by more than this many sd are merged
_LOW, _STEPS = 0.5, 7  # bisection over c*alpha in [0.5, 1], to 0.0054 nats


def share_cell(share: float) -> int:
    """The grid cell of a null share in (0, 1): ``ceil(logit(share) / SHARE_STEP)``."""
    return math.ceil(math.log(share / (1.0 - share)) / SHARE_STEP - 1e-9)


def cell_share(cell: int) -> float:
    """The grid share at the top of ``cell`` (the share the e-value uses)."""
    return 1.0 / (1.0 + math.exp(-cell * SHARE_STEP))


def grid_share(share: float) -> float:
    """``share`` rounded up to the grid: the e-value's null share."""
    return cell_share(share_cell(share))


def _lattice(alpha: float, share: float) -> tuple[list[int], list[list[float]]]:
    """Per event count ``k``: the lowest kept ``j`` and E(k, j) up to the first E >= 1/alpha."""
    horizon = max(math.ceil(_EVENTS_PER_SHARE / share), _MIN_HORIZON)
    cap = 1.0 / alpha
    comps = [(math.log(w), math.log(r), math.log1p(share * (r - 1.0))) for (r,), w in RATE_PRIOR]
    spread = _SPREAD * math.sqrt(share * (1.0 - share))
    lows = [max(0, math.floor(share * k - spread * math.sqrt(k))) for k in range(horizon + 1)]
    # Any one component reaching 1/alpha puts E past it: a row ends by then.
    ends = [
        max(low, min(k, *(math.ceil((math.log(cap) - lw + k * ld) / lr) for lw, lr, ld in comps)))
        for k, low in enumerate(lows)
    ]
    # r**j for every j a row reaches; E(k, j) is the sum of w r**j / (1 + p (r - 1))**k.
    powers = [[r**j for j in range(max(ends) + 1)] for (r,), _ in RATE_PRIOR]
    rows: list[list[float]] = []
    for k, (low, end) in enumerate(zip(lows, ends, strict=True)):
        parts = [
            [math.exp(lw - k * ld) * x for x in power[low : end + 1]]
            for (lw, _, ld), power in zip(comps, powers, strict=True)
        ]
        row = [sum(values) for values in zip(*parts, strict=True)]
        rows.append(row[: bisect_left(row, cap) + 1])
    return lows, rows


def crossing_bound(
    threshold: float,
    alpha: float,
    share: float,
    lattice: tuple[list[int], list[list[float]]] | None = None,
) -> float:
    """``V(0, 0)``: a bound on the false-rollback probability of the rate test's rule.

    Args:
        threshold: ``c``, the first stage's threshold, at most ``1/alpha``.
        alpha: the comparison's budget; later stages reject at ``1/(LATER_ALPHA * alpha)``.
        share: the null share ``p`` the e-value uses (a grid share, see ``grid_share``).
        lattice: ``_lattice(alpha, share)``, when several thresholds are tried.
    """
    lows, rows = lattice or _lattice(alpha, share)
    reject = threshold * (1.0 - 1e-9)  # an e-value a rounding below c counts as rejected
    stop = LATER_ALPHA * alpha
    keep = 1.0 - share
    values = [1.0 if e >= reject else min(1.0, e / threshold) for e in rows[-1]]
    for k in range(len(rows) - 2, -1, -1):
        offset = lows[k] - lows[k + 1]
        # Past the end of the next row lies E >= 1/alpha >= c (rejected); before its start,
        # its lowest value stands in (V is nondecreasing in j, so this only raises V).
        nxt = [values[0]] * max(0, -offset) + values[max(0, offset) :] + [1.0, 1.0]
        row = rows[k]
        values = [
            1.0 if e >= reject else max(stop * e, share * up + keep * same)
            for e, same, up in zip(row, nxt, nxt[1:], strict=False)
        ]
    return values[0]


@lru_cache(maxsize=4096)
def _cell_threshold(alpha: float, cell: int) -> float:
    share = cell_share(cell)
    if not MIN_SHARE <= share <= MAX_SHARE:
        return 1.0 / alpha
    lattice = _lattice(alpha, share)
    low, high = math.log(_LOW), 0.0  # log(c * alpha); high always qualifies
    for _ in range(_STEPS):
        mid = (low + high) / 2.0
        if crossing_bound(math.exp(mid) / alpha, alpha, share, lattice) <= alpha:
            high = mid
        else:
            low = mid
    return math.exp(high) / alpha


def exact_threshold(alpha: float, share: float) -> float:
    """The smallest ``c`` with ``crossing_bound(c, alpha, grid_share(share)) <= alpha``.

    To 0.0054 nats; ``1/alpha`` outside ``[MIN_SHARE, MAX_SHARE]``; never above ``1/alpha``.
    """
    return _cell_threshold(alpha, share_cell(share))


def rate_threshold(alpha: float, shares: Sequence[float], *, calibrated: bool = True) -> float:
    """The rate test's threshold for a rollout whose stages had these null shares.

    Args:
        alpha: the comparison's share of the false-rollback budget.
        shares: the null share of every stage with data in both arms, first stage first.
        calibrated: False when the null share is a plug-in that moves with the data
            (an absolute ``max_increase``): then ``1/alpha``, Ville's threshold, throughout.
    """
    if not calibrated or not shares:
        return 1.0 / alpha
    cells = {share_cell(s) for s in shares}
    if len(cells) > 1:
        return 1.0 / (LATER_ALPHA * alpha)
    return _cell_threshold(alpha, cells.pop())
