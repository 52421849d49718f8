"""einspace vs the SK hynix AiM simulator on its GEMV runs (shared/reference/aim_gemv.json):
cycles within 2 % (they are equal) and the same commands per channel (docs/validation.md)."""
import pytest

from experiments.validation.references import load
from sim.pim.isr import AIM_NAMES, gemv_isr, parse_isr, run_isr
from sim.pim.spec import aim_cent_system

TOLERANCE = 0.02
CASES = (load("aim_gemv.json") or {}).get("results", [])


@pytest.mark.skipif(not CASES, reason="AiM reference figures not present")
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['M']}x{c['K']}-{c['channels']}ch")
def test_aim_gemv_cycles_and_commands_match_the_aim_simulator(case):
    system = aim_cent_system()
    text = gemv_isr(case["M"], case["K"], case["channels"], columns=case["columns_per_MAC_ABK"])
    instructions = parse_isr(text, system.standard)
    isr = {op: sum(1 for i in instructions if i.op == op) for op in case["isr_counts"]}
    assert isr == {k: v for k, v in case["isr_counts"].items()}
    res = run_isr(instructions, system)
    assert abs(res.cycles / case["cycles"] - 1) <= TOLERANCE, (res.cycles, case["cycles"])
    ch0 = {AIM_NAMES[name]: n for name, n in res.per_channel[0].items() if name != "EOC"}
    assert ch0 == case["ch0_commands"]
