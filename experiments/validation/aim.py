"""AiM GEMV runs (shared/reference/aim_gemv.json, the SK hynix AiM simulator): einspace's
cycles within 2 % and the same commands on channel 0 (docs/validation.md, "PIM vs the AiM
simulator"; the test is tests/sim/pim/test_pim_aim_reference.py)."""
from __future__ import annotations

from experiments.validation.references import load
from experiments.validation.row import Row, Unavailable, within

NAME = "aim"
FILE = "aim_gemv.json"
TOLERANCE = 0.02


def rows(fast: bool) -> list[Row]:
    from sim.pim.isr import AIM_NAMES, gemv_isr, parse_isr, run_isr
    from sim.pim.spec import aim_cent_system

    ref = load(FILE)
    if ref is None:
        raise Unavailable(f"shared/reference/{FILE} not found")
    system = aim_cent_system()
    out = []
    for case in ref["results"]:
        tag = f"GEMV {case['M']}x{case['K']}, {case['channels']} ch"
        text = gemv_isr(case["M"], case["K"], case["channels"], columns=case["columns_per_MAC_ABK"])
        res = run_isr(parse_isr(text, system.standard), system)
        out.append(within(NAME, f"{tag}: cycles", res.cycles, case["cycles"], TOLERANCE))
        ch0 = {AIM_NAMES[name]: n for name, n in res.per_channel[0].items() if name != "EOC"}
        for command, want in case["ch0_commands"].items():
            out.append(within(NAME, f"{tag}: ch0 {command}", ch0.get(command, 0), want, 0.0))
    return out
