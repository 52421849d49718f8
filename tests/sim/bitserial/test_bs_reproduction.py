"""BitMoD's headline (Chen et al., HPCA 2025, abstract and Sec. VI-B: 1.69x over ANT and 1.48x
over OliVe, arithmetic mean over 6 models x 2 tasks) and its per-model cycle counts (the authors'
figure code, `PUBLISHED_CYCLES`) reproduced in the paper's own accounting; the cycle-level model
within 12 % of the headline (the differences are listed in docs/bitserial.md)."""
from dataclasses import replace

import pytest

from experiments.reproductions.bitmod import PHASE_CONFIG, PUBLISHED_CYCLES, fidelity, headline, reproduction
from mappers.bitserial.gemm import model_gemms
from sim.bitserial.paper import paper_gemm
from sim.bitserial.presets import MODELS, accelerator

PAPER = {"speedup_vs_ant": 1.69, "speedup_vs_olive": 1.48}

# Published figures whose ANT/OliVe weight bits differ from the released scripts' `w_prec` tables
# (test_ant.py / test_olive.py, which the kinds cite): the bits that reproduce each figure exactly.
# docs/bitserial.md, "Per-model fidelity"; nothing is tuned to them.
IMPLIED_BITS = {
    ("ant", "llama-2-13b", "prefill"): 5.5, ("ant", "llama-2-13b", "decode"): 5.0,
    ("ant", "llama-3-8b", "prefill"): 5.5, ("ant", "llama-3-8b", "decode"): 4.5,
    ("olive", "opt-1.3b", "decode"): 3.875, ("olive", "yi-6b", "decode"): 4.25,
    ("olive", "llama-2-7b", "decode"): 3.75, ("olive", "llama-2-13b", "prefill"): 4.5,
    ("olive", "llama-2-13b", "decode"): 3.75, ("olive", "llama-3-8b", "decode"): 3.5,
}


@pytest.mark.parametrize("mode,tolerance", [("paper", 0.02), ("cycle", 0.12)])
def test_headline_speedups(mode, tolerance):
    got = headline(reproduction(mode))
    for key, want in PAPER.items():
        assert abs(got[key] / want - 1) <= tolerance, (key, got[key])


def test_paper_mode_reproduces_the_published_per_model_cycles():
    table = fidelity("paper")
    exact = [(a, m, p) not in IMPLIED_BITS for a, m, p in zip(table["accel"], table["model"], table["phase"])]
    assert (table.loc[exact, "deviation"].abs() < 1e-9).all(), table[exact][table["deviation"].abs() >= 1e-9]
    bitmod = table[table["accel"].str.startswith("bitmod") | (table["accel"] == "fp16")]
    assert len(bitmod) == 36 and (bitmod["deviation"] == 0).all()


@pytest.mark.parametrize("accel,model,phase", sorted(IMPLIED_BITS))
def test_the_remaining_ant_olive_differences_are_their_weight_bits(accel, model, phase):
    spec = replace(accelerator(accel, PHASE_CONFIG[phase], model), weight_bits=IMPLIED_BITS[accel, model, phase])
    cycles = sum(paper_gemm(g, spec)["cycles"] for g in model_gemms(model, phase))
    assert cycles == PUBLISHED_CYCLES[phase][accel][MODELS.index(model)]
