"""Process-in-memory (PIM) models: AiM-style in-bank MAC units driven by DRAM commands.

`spec` holds the PIM system (PIM-GPT's GDDR6-AiM channels plus its ASIC), `stream` the tiles and
the command streams they expand to, `engine` the event-driven (simpy) reference and the exact
fast path, `analytic` the closed-form path proven equal to both, `energy` the energy and traffic
per command, `program` the decode program a PIM `Mapping` carries, `simulate` the contract's
`simulate(mapping, system) -> Result`, `bank_mac` the functional in-bank MAC arithmetic,
`baselines` the GPU/CPU rooflines PIM-GPT compared against, `area` what PIM-GPT adds in silicon.
"""
from sim.pim.simulate import simulate

__all__ = ["simulate"]
