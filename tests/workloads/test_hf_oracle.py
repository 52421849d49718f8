"""Against the `transformers` implementations (the `oracle` extra: torch + transformers, CPU):
a random-weight model built from each small config, saved with safetensors into tmp_path, loaded
through einspace (config -> ModelSpec -> cascade, checkpoint -> weights, RoPE tables from the
config) gives the same logits, for a prefill and for a decode step chained on the KV cache.
The torch model runs in float64, so agreement is to rounding (atol 1e-9)."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from hf_small import SMALL, run_decode, run_prefill, tokens

torch = pytest.importorskip("torch", reason="the oracle extra (torch, transformers) is not installed")
transformers = pytest.importorskip("transformers", reason="the oracle extra (torch, transformers) is not installed")

ATOL = 1e-9
# Where transformers computes in float32 inside a float64 model, agreement is to float32 rounding:
# its rotary embedding forms the RoPE angles in float32 ("force float32"), and the eager OPT
# attention takes the softmax in float32. A wrong table or layout differs by O(0.1).
ROPE_ATOL = 2e-6
TOLERANCE = {"opt": 2e-6, "llama": ROPE_ATOL, "llama-bias-tied": ROPE_ATOL, "mistral": ROPE_ATOL,
             "qwen2": ROPE_ATOL, "phi": ROPE_ATOL, "phi3": ROPE_ATOL, "gemma": ROPE_ATOL,
             # Gemma-2 also takes the attention softmax in float32 (its eager attention)
             "gemma2": ROPE_ATOL,
             # and the MoE routers take the softmax of the router logits in float32
             "mixtral": ROPE_ATOL, "qwen2_moe": ROPE_ATOL}


def build(arch: str, folder, dtype=None, seed: int = 0):
    """A random-weight transformers model of SMALL[arch], saved (safetensors) into `folder`."""
    cfg = dict(SMALL[arch])
    config = transformers.AutoConfig.for_model(**cfg)
    cls = transformers.AutoModel if cfg["model_type"] == "bert" else transformers.AutoModelForCausalLM
    torch.manual_seed(seed)
    # MoE models: the per-expert loop ("eager"); the grouped GEMM kernel takes no float64
    moe = {"experts_implementation": "eager"} if "num_experts_per_tok" in cfg else {}
    model = cls.from_config(config, attn_implementation="eager", dtype=torch.float64, **moe)
    with torch.no_grad():
        for name, p in model.named_parameters():
            # norm gains near 1 (Gemma stores gain - 1, so near 0), everything else N(0, 0.1^2)
            one = 1.0 if ("norm" in name.lower() or ".ln_" in name) and name.endswith("weight") and not arch.startswith("gemma") else 0.0
            p.copy_(one + 0.1 * torch.randn_like(p))
    model.eval()
    if dtype is None:
        model.save_pretrained(folder, safe_serialization=True)
        return model
    # save a copy in `dtype`; round only the parameters of the float64 model (its RoPE buffer stays)
    copy.deepcopy(model).to(dtype).save_pretrained(folder, safe_serialization=True)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(dtype).double())
    return model


def hf_out(model, tok, types=None):
    with torch.no_grad():
        kwargs = {"token_type_ids": torch.tensor(types)} if types is not None else {}
        out = model(torch.tensor(tok), **kwargs)
    return (out.logits if hasattr(out, "logits") else out.last_hidden_state).double().numpy()


ARCHS = [a for a in SMALL if a != "bert"]


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("attention", ["3pass", "1pass"])
def test_prefill_and_decode_equal_transformers(arch, attention, tmp_path):
    model = build(arch, tmp_path)
    tok = tokens(2, 9)
    want = hf_out(model, tok)
    atol = TOLERANCE.get(arch, ATOL)
    got, _ = run_prefill(tmp_path, tok, attention=attention)
    np.testing.assert_allclose(got, want, rtol=0, atol=atol)
    np.testing.assert_allclose(run_decode(tmp_path, tok, attention=attention), want[:, -1], rtol=0, atol=atol)


def test_bert_encoder_equals_transformers(tmp_path):
    model = build("bert", tmp_path)
    tok, types = tokens(2, 7), tokens(2, 7, vocab=2, seed=1)
    got, _ = run_prefill(tmp_path, tok, types=types, attention="2pass")
    np.testing.assert_allclose(got, hf_out(model, tok, types), rtol=0, atol=ATOL)


def test_bf16_checkpoint_equals_transformers_in_bf16_weights(tmp_path):
    """A bf16 checkpoint: einspace widens the stored bf16 values; the reference is the float64
    model holding the same bf16-rounded weights."""
    model = build("llama", tmp_path, dtype=torch.bfloat16)
    tok = tokens(1, 6)
    got, _ = run_prefill(tmp_path, tok)
    np.testing.assert_allclose(got, hf_out(model, tok), rtol=0, atol=ROPE_ATOL)
