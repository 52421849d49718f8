"""MAC and byte counts of lowered cascades equal their closed forms."""
import math

import pytest

from workloads import Dtypes, get_model, lower


def group_macs(cascade, *groups):
    df = cascade.table()
    return int(df[df["group"].isin(groups)]["macs"].sum())


@pytest.mark.parametrize("name", ["gpt2", "llama-3-8b", "opt-1.3b", "phi-2"])
@pytest.mark.parametrize("phase,seq,batch", [("prefill", 37, 2), ("decode", 300, 3)])
def test_linear_layer_macs_closed_form(name, phase, seq, batch):
    """Per token and layer: d*(H*e + 2*KV*e) (QKV) + H*e*d (out) + k*d*d_ff (MLP, k=2 or 3);
    LM head: d*V per token."""
    m = get_model(name)
    c = lower(name, phase, batch=batch, seq_len=seq, layers=2)
    tokens = batch * (seq if phase == "prefill" else 1)
    e = m.d_head
    per_layer = m.d_model * (m.n_heads * e + 2 * m.kv_heads * e) + m.n_heads * e * m.d_model
    per_layer += (3 if m.activation == "swiglu" else 2) * m.d_model * m.d_ff
    assert group_macs(c, "qkv", "proj", "mlp") == tokens * 2 * per_layer
    assert group_macs(c, "lm_head") == tokens * m.d_model * m.vocab_size


@pytest.mark.parametrize("attention", ["3pass", "2pass", "1pass"])
def test_attention_macs_closed_form(attention):
    """QK and AV: B*H*P*M*e each; the partitioned cascades pad M to a multiple of the block."""
    m = get_model("llama-3-8b")
    batch, seq, block = 2, 100, 64
    c = lower(m, "prefill", batch=batch, seq_len=seq, attention=attention, layers=1, block=block)
    keys = seq if attention == "3pass" else math.ceil(seq / block) * block
    assert group_macs(c, "attention") == 2 * batch * m.n_heads * seq * keys * m.d_head


def test_decode_reads_every_weight_and_the_whole_kv_cache_once():
    """A decode step's compulsory traffic: all weights (fp16) + K and V caches of kv_len+1 tokens."""
    m = get_model("gpt2")
    kv = 511
    c = lower(m, "decode", seq_len=kv + 1, layers=m.n_layers)
    df = c.table()
    attn = df[df["einsum"].str.endswith((".QK", ".AV"))]
    cache_bytes = 2 * m.n_layers * (kv + 1) * m.d_model * 2
    per_tensor = [s.bytes_read for s in c.stats if s.name.endswith((".QK", ".AV"))]
    read_cache = sum(v for d in per_tensor for k, v in d.items() if k.endswith("cache"))
    assert read_cache == cache_bytes
    assert len(attn) == 2 * m.n_layers
    appended = sum(s.total_written for s in c.stats if s.name.endswith("cache"))
    assert appended == 2 * m.n_layers * m.d_model * 2  # one new K and V row per layer


def test_dtypes_set_bytes():
    c16 = lower("gpt2", "decode", seq_len=64, layers=1)
    c4 = lower("gpt2", "decode", seq_len=64, layers=1, dtypes=Dtypes(weight="int4"))
    w16 = sum(t.bytes for t in c16.tensors.values() if t.role == "weight")
    w4 = sum(t.bytes for t in c4.tensors.values() if t.role == "weight")
    assert w16 == 4 * w4


def test_softmax_op_counts_per_variant():
    """3-pass: one exp per score; 1-pass: one exp per score plus one correction exp per
    (query, block): FuseMax's extra work for the single pass."""
    seq, block = 128, 32
    c3 = lower("gpt2", "prefill", seq_len=seq, attention="3pass", layers=1)
    c1 = lower("gpt2", "prefill", seq_len=seq, attention="1pass", layers=1, block=block)
    heads = 12

    def exps(c):
        df = c.table()
        return int(df[df["group"] == "attention"]["op_exp"].sum())

    assert exps(c3) == heads * seq * seq
    assert exps(c1) == heads * seq * seq + heads * seq * (seq // block)
