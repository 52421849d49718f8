"""PIM-GPT (Wu et al.): the paper's speedup and energy-efficiency bands over its GPU (T4) and CPU
baselines against einspace's 1,024-token decode of the 8 GPT models on the PIM-GPT preset and the
roofline / eager baseline models. Not reproduced, so every row is reported, not claimed
(docs/pim.md, "Where it lands"; docs/validation.md, "PIM-GPT")."""
from __future__ import annotations

from experiments.validation.row import Row, within

NAME = "pim-gpt"
FAST = False  # 8 models x 1,024 decode tokens: ~60 s
TOKENS = 1024
TOLERANCE = 0.05
ENERGY_EFFICIENCY_GPU = (123.0, 383.0)  # npj version (docs/pim.md, Sources)
NOTE = "not reproduced: docs/pim.md#reproduction (where it lands; what the bands imply)"


def rows(fast: bool) -> list[Row]:
    from experiments.reproductions.pim_gpt import reproduce
    from sim.pim.baselines import PAPER_SPEEDUP

    models = ("gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl", "gpt3-125m", "gpt3-350m", "gpt3-760m", "gpt3-1.3b")
    table = [reproduce(m, TOKENS) for m in models]
    bands = {f"speedup_vs_{dev}_{kind}": PAPER_SPEEDUP[dev]
             for dev in ("gpu", "cpu") for kind in ("roofline", "eager")}
    bands.update({f"energy_eff_vs_gpu_{kind}": ENERGY_EFFICIENCY_GPU for kind in ("roofline", "eager")})
    out = []
    for key, (lo, hi) in bands.items():
        values = [r[key] for r in table]
        label = key.replace("_vs_", " vs ").replace("_", " ")
        out.append(within(NAME, f"{label}, lowest of 8 models (band low end)", min(values), lo, TOLERANCE, False, NOTE))
        out.append(within(NAME, f"{label}, highest of 8 models (band high end)", max(values), hi, TOLERANCE, False, NOTE))
    return out
