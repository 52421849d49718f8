"""`einspace lower`: lower a model to its Einsum cascade and print the per-Einsum table."""
from __future__ import annotations

import click

from workloads import Dtypes, lower as lower_model
from workloads.attention import VARIANTS
from workloads.lower import LM_HEAD, PHASES
from workloads.render import to_dot, to_json, to_text


def _choice(name: str, allowed) -> click.Choice:
    return click.Choice(list(allowed))


@click.command("lower")
@click.argument("model")
@click.option("--phase", type=_choice("phase", PHASES), default="prefill", show_default=True)
@click.option("--seq-len", type=click.IntRange(min=1), default=128, show_default=True,
              help="prefill: prompt tokens; decode: context length including the new token(s)")
@click.option("--kv-len", type=click.IntRange(min=0), default=None, help="tokens already in the KV cache")
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--new-tokens", type=click.IntRange(min=1), default=1, show_default=True, help="decode: tokens per step")
@click.option("--attention", type=_choice("attention", VARIANTS), default="3pass", show_default=True)
@click.option("--block", type=click.IntRange(min=1), default=64, show_default=True, help="key block M0 of the 1/2-pass cascades")
@click.option("--layers", type=click.IntRange(min=1), default=None, help="lower only the first N blocks")
@click.option("--lm-head", type=_choice("lm_head", LM_HEAD), default="all", show_default=True)
@click.option("--weight-dtype", default="fp16", show_default=True)
@click.option("--act-dtype", default="fp16", show_default=True)
@click.option("--kv-dtype", default="fp16", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "dot"]), default="text", show_default=True)
def lower(model, phase, seq_len, kv_len, batch, new_tokens, attention, block, layers, lm_head,
          weight_dtype, act_dtype, kv_dtype, fmt) -> None:
    """Lower MODEL to an extended-Einsum cascade; print ops, bytes and intensity per Einsum.

    MODEL is a zoo name (`einspace models`), a Hugging Face config.json path, a checkpoint folder
    holding one, or a model id (ORG/NAME) in the local Hugging Face cache; never the network."""
    cascade = lower_model(
        model, phase, batch=batch, seq_len=seq_len, kv_len=kv_len, attention=attention,
        dtypes=Dtypes(weight_dtype, act_dtype, kv_dtype), new_tokens=new_tokens, layers=layers,
        block=block, lm_head=lm_head,
    )
    click.echo({"text": to_text, "json": to_json, "dot": to_dot}[fmt](cascade))
