"""Simulation and backtesting: the real ``decide`` on a virtual clock."""

from phased.simulate.replay import Replay
from phased.simulate.run import SimEvent, SimResult, simulate
from phased.simulate.traffic import TrafficModel, parse_traffic

__all__ = ["Replay", "SimEvent", "SimResult", "TrafficModel", "parse_traffic", "simulate"]
