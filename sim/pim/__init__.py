"""Process-in-memory (PIM) models: AiM-style in-bank MAC units driven by DRAM commands.

`spec` holds the PIM system (PIM-GPT's GDDR6-AiM channels plus its ASIC), `stream` the tiles and
the command streams they expand to, `engine` the event-driven (simpy) reference and the exact
fast path, `bank_mac` the functional in-bank MAC arithmetic, `baselines` the GPU/CPU rooflines
PIM-GPT compared against.
"""
