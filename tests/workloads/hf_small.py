"""Small Hugging Face configs (a few layers, small widths) per architecture, and the driver
that runs a lowered cascade on weights read through `workloads.checkpoints`: a prefill, and a
decode step chained on the prefill's KV cache (`L{i}.KR`/`L{i}.K` and `L{i}.V`, trimmed to the
last `sliding_window - 1` positions when the model has a window)."""
from __future__ import annotations

import json

import numpy as np

from workloads import get_model, lower
from workloads.checkpoints import load_checkpoint

SMALL = {
    "gpt2": dict(model_type="gpt2", n_layer=2, n_embd=32, n_head=4, n_positions=32, vocab_size=64,
                 activation_function="gelu_new", layer_norm_epsilon=1e-5),
    "opt": dict(model_type="opt", hidden_size=32, num_hidden_layers=2, num_attention_heads=4, ffn_dim=64,
                vocab_size=64, max_position_embeddings=32, word_embed_proj_dim=32, do_layer_norm_before=True,
                activation_function="relu"),
    "llama": dict(model_type="llama", hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, intermediate_size=48, vocab_size=64, max_position_embeddings=128,
                  rms_norm_eps=1e-5, rope_theta=10000.0,
                  rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                "high_freq_factor": 4.0, "original_max_position_embeddings": 16}),
    "llama-bias-tied": dict(model_type="llama", hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                            num_key_value_heads=4, intermediate_size=48, vocab_size=64, max_position_embeddings=64,
                            attention_bias=True, mlp_bias=True, tie_word_embeddings=True, rope_theta=500.0),
    "mistral": dict(model_type="mistral", hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=2, intermediate_size=48, vocab_size=64, max_position_embeddings=64,
                    sliding_window=4, head_dim=8),
    "qwen2": dict(model_type="qwen2", hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, intermediate_size=48, vocab_size=64, max_position_embeddings=64,
                  tie_word_embeddings=True, use_sliding_window=False, rope_theta=1000000.0),
    "phi": dict(model_type="phi", hidden_size=40, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                vocab_size=64, max_position_embeddings=64, partial_rotary_factor=0.4, hidden_act="gelu_new"),
    "phi3": dict(model_type="phi3", hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                 intermediate_size=48, vocab_size=64, max_position_embeddings=64, sliding_window=5,
                 rms_norm_eps=1e-5, pad_token_id=0),
    "gemma": dict(model_type="gemma", hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=1, head_dim=16, intermediate_size=48, vocab_size=64,
                  max_position_embeddings=64, hidden_activation="gelu_pytorch_tanh"),
    # Gemma-2: 3 layers (0 and 2 local, 1 global), window 4 < the 9 test positions, small soft-caps
    # so that tanh bends the scores and logits, query_pre_attn_scalar != head_dim
    "gemma2": dict(model_type="gemma2", hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
                   num_key_value_heads=2, head_dim=16, intermediate_size=48, vocab_size=64,
                   max_position_embeddings=64, hidden_activation="gelu_pytorch_tanh", query_pre_attn_scalar=24,
                   sliding_window=4, attn_logit_softcapping=0.5, final_logit_softcapping=0.8, rms_norm_eps=1e-6),
    "mixtral": dict(model_type="mixtral", hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=2, intermediate_size=24, vocab_size=64, max_position_embeddings=64,
                    num_local_experts=4, num_experts_per_tok=2, rope_theta=1000000.0, rms_norm_eps=1e-5),
    "qwen2_moe": dict(model_type="qwen2_moe", hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
                      num_key_value_heads=2, intermediate_size=40, moe_intermediate_size=16,
                      shared_expert_intermediate_size=24, num_experts=6, num_experts_per_tok=3,
                      norm_topk_prob=False, decoder_sparse_step=1, mlp_only_layers=[1], vocab_size=64,
                      max_position_embeddings=64, use_sliding_window=False, rope_theta=10000.0),
    "bert": dict(model_type="bert", hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                 vocab_size=64, max_position_embeddings=32, type_vocab_size=2, hidden_act="gelu"),
}


def write_config(folder, arch: str, **changes) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps({**SMALL[arch], **changes}))
    return str(folder / "config.json")


def run_prefill(source, tokens, types=None, attention="3pass", block=3):
    """Logits (decoders) or the last hidden states (encoders) of a prefill of `tokens`."""
    m = get_model(str(source))
    c = lower(m, "prefill", batch=tokens.shape[0], seq_len=tokens.shape[1], attention=attention, block=block)
    feed = {**load_checkpoint(c, source), "TOK": tokens}
    if types is not None:
        feed["TT"] = types
    out = c.evaluate(feed, keep="all")
    return out["LOGITS"] if m.kind == "decoder" else out[c.outputs[-1]], out


def run_decode(source, tokens, attention="3pass", block=3):
    """Prefill tokens[:, :-1], then one decode step on its KV cache: the step's logits [B, V]."""
    m = get_model(str(source))
    n = tokens.shape[1]
    _, cache = run_prefill(source, tokens[:, :-1], attention=attention, block=block)
    step = lower(m, "decode", batch=tokens.shape[0], seq_len=n, attention=attention, block=block)
    feed = {**load_checkpoint(step, source), "TOK": tokens[:, -1:]}
    for i in range(m.n_layers):
        for ours, theirs in ((f"L{i}.Kpast", f"L{i}.KR" if m.position == "rope" else f"L{i}.K"),
                             (f"L{i}.Vpast", f"L{i}.V")):
            if ours in step.inputs:
                kept = step.tensors[ours].shape[1]
                feed[ours] = cache[theirs][:, cache[theirs].shape[1] - kept:]
    return step.evaluate(feed)["LOGITS"][:, 0]


def tokens(batch: int, n: int, vocab: int = 64, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, vocab, (batch, n))


# T5 v1.1 (gated-gelu, separate head): 2 encoder + 2 decoder blocks, inner width 4 x 12 = 48 != d_model,
# 8 buckets up to distance 16 (the logarithmic buckets are reached within 9 positions). Not in SMALL:
# an encoder-decoder runs through `run_t5` (tests/workloads/test_t5.py).
SMALL_T5 = dict(model_type="t5", d_model=32, d_kv=12, num_heads=4, num_layers=2, num_decoder_layers=2, d_ff=40,
                vocab_size=64, relative_attention_num_buckets=8, relative_attention_max_distance=16,
                feed_forward_proj="gated-gelu", tie_word_embeddings=False, layer_norm_epsilon=1e-6,
                is_encoder_decoder=True, decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)


def write_t5_config(folder, **changes) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps({**SMALL_T5, **changes}))
    return str(folder / "config.json")
