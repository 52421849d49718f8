"""T5 against `transformers`' T5ForConditionalGeneration (the `oracle` extra: torch +
transformers, CPU): a random-weight model of the small T5 configs (v1.1 gated-gelu with its
own head; original T5 relu with the tied, d_model^-0.5-scaled head), saved with safetensors,
loaded through einspace (config -> ModelSpec -> cascade, checkpoint -> weights, bucket indices
from the config) gives the same logits for a prefill (encoder + decoder's first tokens) and for
a decode step chained on the prefill's self- and cross-attention caches. The torch model runs
in float64; its T5LayerNorm takes the variance in float32, so agreement is to float32 rounding."""
from __future__ import annotations

import numpy as np
import pytest

from hf_small import SMALL_T5
from workloads import get_model, lower
from workloads.checkpoints import load_checkpoint

torch = pytest.importorskip("torch", reason="the oracle extra (torch, transformers) is not installed")
transformers = pytest.importorskip("transformers", reason="the oracle extra (torch, transformers) is not installed")

ATOL = 2e-6
VARIANTS = {"v1.1": {}, "original": dict(feed_forward_proj="relu", tie_word_embeddings=True)}


def build(cfg: dict, folder, seed: int = 0):
    config = transformers.AutoConfig.for_model(**cfg)
    torch.manual_seed(seed)
    model = transformers.T5ForConditionalGeneration._from_config(config, attn_implementation="eager",
                                                                 dtype=torch.float64)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_((1.0 if "layer_norm" in name else 0.0) + 0.1 * torch.randn_like(p))
    model.eval()
    model.save_pretrained(folder, safe_serialization=True)
    (folder / "config.json").write_text(__import__("json").dumps(cfg))  # the config as published
    return model


def run(folder, etok, dtok, attention):
    """einspace: prefill over (etok, dtok[:, :-1]) and a decode step of dtok[:, -1]."""
    m = get_model(str(folder))
    b, t = dtok.shape
    first = lower(m, "prefill", batch=b, seq_len=etok.shape[1], new_tokens=t - 1, attention=attention, block=4)
    cache = first.evaluate({**load_checkpoint(first, folder), "ETOK": etok, "TOK": dtok[:, :-1]}, keep="all")
    step = lower(m, "decode", batch=b, seq_len=etok.shape[1], kv_len=t - 1, attention=attention, block=4)
    feed = {**load_checkpoint(step, folder), "TOK": dtok[:, -1:]}
    for i in range(m.n_decoder_layers):
        for ours, theirs in (("Kpast", "K"), ("Vpast", "V"), ("XK", "XK"), ("XV", "XV")):
            feed[f"L{i}.{ours}"] = cache[f"L{i}.{theirs}"]
    return cache["LOGITS"], step.evaluate(feed)["LOGITS"][:, 0]


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("attention", ["3pass", "1pass"])
def test_prefill_and_decode_equal_transformers(variant, attention, tmp_path):
    model = build({**SMALL_T5, **VARIANTS[variant]}, tmp_path)
    rng = np.random.default_rng(0)
    etok, dtok = rng.integers(0, 64, (2, 9)), rng.integers(0, 64, (2, 7))
    with torch.no_grad():
        want = model(input_ids=torch.tensor(etok), decoder_input_ids=torch.tensor(dtok)).logits.double().numpy()
    prefill, step = run(tmp_path, etok, dtok, attention)
    np.testing.assert_allclose(prefill, want[:, :-1], rtol=0, atol=ATOL)
    np.testing.assert_allclose(step, want[:, -1], rtol=0, atol=ATOL)


def test_separate_lm_head_is_read_when_stored(tmp_path):
    """flan-t5 checkpoints store lm_head.weight apart from `shared` (transformers 5 saves the tied one)."""
    from workloads.checkpoints import from_state_dict, open_checkpoint

    build(SMALL_T5, tmp_path)
    c = lower(get_model(str(tmp_path)), "prefill", seq_len=4, new_tokens=2)
    state = dict(open_checkpoint(tmp_path))
    head = np.random.default_rng(1).standard_normal((64, 32))
    w = from_state_dict(c, {**state, "lm_head.weight": head})
    np.testing.assert_array_equal(w["WLM"], head.T)
    np.testing.assert_array_equal(from_state_dict(c, state)["WLM"], np.asarray(state["shared.weight"]).T)
