"""Mixture-of-Experts (Mixtral, Qwen2-MoE): the selection reductions of the IR, MAC counts per
token by hand (attention + router + k experts + shared expert, never all experts), active and
total parameters of the published configs, the norm_topk_prob variant against the numpy reference,
and one-line refusals of unsupported fields. Forward passes against numpy and transformers are in
test_hf_forward.py / test_hf_oracle.py (the `mixtral` and `qwen2_moe` entries of hf_small.SMALL)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hf_small import SMALL, write_config
from test_hf_forward import forward
from workloads import SpecError, get_model, lower
from workloads.hf_config import spec_from_config
from workloads.inputs import random_inputs
from workloads.ir import CascadeBuilder

CONFIGS = Path(__file__).parent / "configs"


def test_topk_and_argtopk_select_the_k_largest_lowest_index_first():
    b = CascadeBuilder("sel")
    b.rank("B", 2), b.rank("X", 5), b.rank("K", 3)
    b.tensor("R", "B,X", role="input")
    b.einsum("TV", "TV[B,K] = R[B,X]", reduce_op="topk")
    b.einsum("TI", "TI[B,K] = R[B,X]", reduce_op="argtopk")
    b.output("TV", "TI")
    c = b.build()
    r = np.array([[0.1, 3.0, -1.0, 3.0, 2.0], [5.0, 4.0, 3.0, 2.0, 1.0]])
    out = c.evaluate({"R": r})
    np.testing.assert_array_equal(out["TI"], [[1, 3, 4], [0, 1, 2]])  # tie 3.0: index 1 before 3
    np.testing.assert_array_equal(out["TV"], [[3.0, 3.0, 2.0], [5.0, 4.0, 3.0]])
    s = c.stats[0]
    assert s.macs == 0 and s.ops == {"max": 2 * 3 * (5 - 1)}  # K passes of a max over X per row


def test_selection_needs_one_free_output_rank():
    b = CascadeBuilder("bad")
    b.rank("B", 2), b.rank("X", 5)
    b.tensor("R", "B,X", role="input")
    with pytest.raises(SpecError, match="topk takes one input, reduces one rank and writes one selection rank"):
        b.einsum("TV", "TV[B] = R[B,X]", reduce_op="topk")
        b.build()


def macs_by_hand(m, tokens: int, keys: int) -> int:
    """MACs of a decode step of `tokens` new tokens attending over `keys` positions (3-pass)."""
    d, h, g, e = m.d_model, m.n_heads, m.kv_heads, m.d_head
    attention = d * h * e + 2 * d * g * e + h * e * d + 2 * h * keys * e  # Q, K, V, O; QK and AV
    total = 0
    for i in range(m.n_layers):
        if m.is_moe_layer(i):
            mlp = d * m.n_experts + 3 * m.experts_per_token * d * m.d_expert  # router + k experts
            if m.d_shared_expert:
                mlp += 3 * d * m.d_shared_expert + d  # shared expert and its sigmoid gate
        else:
            mlp = 3 * d * m.d_ff
        total += tokens * (attention + mlp + 2 * d)  # + the two RMSNorms' sums of squares
    return total + tokens * (d + d * m.vocab_size)  # final norm, LM head


@pytest.mark.parametrize("arch", ["mixtral", "qwen2_moe"])
def test_decode_macs_per_token_count_k_experts(arch, tmp_path):
    m = get_model(write_config(tmp_path, arch))
    step = lower(m, "decode", batch=3, seq_len=20)
    assert step.table()["macs"].sum() == macs_by_hand(m, 3, 20)
    moe = step.table().query("group == 'moe' and layer == 0")["macs"].sum()
    per_token = m.d_model * m.n_experts + 3 * m.experts_per_token * m.d_model * m.d_expert
    per_token += 3 * m.d_model * m.d_shared_expert + m.d_model if m.d_shared_expert else 0
    assert moe == 3 * per_token
    # twice the experts: only the router grows (D MACs per token per expert); k experts still run
    wide = get_model(write_config(tmp_path / "wide", arch, **{"num_local_experts" if arch == "mixtral" else "num_experts": 2 * m.n_experts}))
    grown = lower(wide, "decode", batch=3, seq_len=20).table()["macs"].sum() - step.table()["macs"].sum()
    assert grown == 3 * m.d_model * m.n_experts * sum(m.is_moe_layer(i) for i in range(m.n_layers))


def test_expert_weights_are_read_for_k_experts_per_token(tmp_path):
    m = get_model(write_config(tmp_path, "mixtral"))
    step = lower(m, "decode", batch=2, seq_len=9)
    t = step.table().set_index("einsum")
    bytes_per = 2  # fp16 weights
    expert = m.d_model * m.d_expert * bytes_per
    assert t.loc["L0.EWG", "bytes_read"] == 2 * m.experts_per_token * expert + 2 * m.experts_per_token * 4  # + indices
    assert t.loc["L0.EWG", "kind"] == "gather"


@pytest.mark.parametrize("path,active", [("mixtral-8x7b-v0.1", 12_879_925_248), ("qwen1.5-moe-a2.7b", 2_689_173_504)])
def test_published_total_and_active_parameters(path, active):
    doc = json.loads((CONFIGS / f"{path}.json").read_text())
    m = get_model(str(CONFIGS / f"{path}.json"))
    assert m.param_count() == pytest.approx(doc["_published_params"], abs=0.05e9)  # 46.7B / 14.3B
    assert m.active_param_count() == active == pytest.approx(doc["_published_active_params"], abs=0.05e9)
    assert m.param_count() == (46_702_792_704 if m.family == "mixtral" else 14_315_784_192)


def test_qwen2_moe_layers_and_renormalized_topk_equal_numpy(tmp_path):
    m = get_model(write_config(tmp_path, "qwen2_moe", norm_topk_prob=True, decoder_sparse_step=2, mlp_only_layers=[]))
    assert m.moe_layers == (1,) and m.norm_topk_prob and m.router == "softmax_topk"
    c = lower(m, "prefill", batch=2, seq_len=7)
    w = random_inputs(c, seed=5, std=0.3)
    np.testing.assert_allclose(c.evaluate(w)["LOGITS"], forward(w, w["TOK"], m), rtol=0, atol=1e-9)
    assert "L0.WR" not in c.tensors and "L1.WR" in c.tensors and "L0.WG" in c.tensors


@pytest.mark.parametrize("arch,changes,needle", [
    ("mixtral", {"num_experts_per_tok": 9}, "num_experts_per_tok = 9 is not supported for model_type 'mixtral'; allowed: 1..num_local_experts (4)"),
    ("mixtral", {"num_local_experts": None}, "model_type 'mixtral' needs 'num_local_experts', which is missing"),
    ("mixtral", {"hidden_act": "gelu"}, "hidden_act = 'gelu' is not supported for model_type 'mixtral'; allowed: 'silu', 'swish'"),
    ("qwen2_moe", {"use_sliding_window": True}, "use_sliding_window = True is not supported for model_type 'qwen2_moe'; allowed: False"),
    ("qwen2_moe", {"mlp_only_layers": [7]}, "mlp_only_layers = [7] is not supported; allowed: a list of layer indices 0..2"),
    ("qwen2_moe", {"decoder_sparse_step": 0}, "decoder_sparse_step = 0 is not supported; allowed: a positive integer"),
    ("qwen2_moe", {"norm_topk_prob": "yes"}, "norm_topk_prob = 'yes' is not supported for model_type 'qwen2_moe'; allowed: True, False"),
    ("qwen2_moe", {"shared_expert_intermediate_size": 0}, "shared_expert_intermediate_size = 0; must be a positive integer"),
])
def test_unsupported_moe_fields_are_one_line_spec_errors(arch, changes, needle):
    with pytest.raises(SpecError) as err:
        spec_from_config({**SMALL[arch], **changes}, "x")
    assert needle in str(err.value) and "\n" not in str(err.value)
