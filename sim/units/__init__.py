"""Bit- and cycle-exact reference models of the RTL units in `hw/units/`.

Each model is the specification its Amaranth unit is verified against: it defines the exact
arithmetic (rounding, special values) and the pipeline latency. Every model exposes the same
interface, `run(stimulus) -> (outputs, cycles)`: `stimulus` is one entry per clock cycle (`None`
for a bubble), `outputs` the tuple of output words at each completed result and `cycles` the
clock edge (counting the first stimulus edge as 0) after which that result is visible.
"""
from sim.units.bank_mac import BankMacModel, Burst
from sim.units.online_softmax import OnlineSoftmaxModel, Score

__all__ = ["BankMacModel", "Burst", "OnlineSoftmaxModel", "Score"]
