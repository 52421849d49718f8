"""What a placed cascade keeps in each unit's memory: the weights its Einsums read and the KV cache.

Pure accounting over the cascade's tensors (`TensorSpec.role`, `TensorSpec.bytes`):
* weights: every tensor with role "weight" read by an Einsum placed on the unit, once per unit
  (a tensor read on two units — e.g. GPT-2's tied embedding, gathered on the host and multiplied
  in the LM head elsewhere — is stored on both);
* KV cache: the outputs of the unit's `kv_cache` Einsums (the decode step's appends: the cache
  after the new token), i.e. the cache lives where its append runs, which placement puts with the
  attention that reads it.
Activations are not counted (they are small beside weights and cache, and transient).
"""
from __future__ import annotations


def weight_tensors(cascade, placement: dict[str, str]) -> dict[str, dict[str, float]]:
    """unit -> {weight tensor: bytes} read by the Einsums placed there."""
    out: dict[str, dict[str, float]] = {}
    for e in cascade.einsums:
        for acc in e.inputs:
            spec = cascade.tensors[acc.tensor]
            if spec.role == "weight":
                out.setdefault(placement[e.name], {})[spec.name] = spec.bytes
    return out


def kv_cache_bytes(cascade, placement: dict[str, str]) -> dict[str, float]:
    """unit -> bytes of the KV cache its `kv_cache` Einsums write (the cache after the step)."""
    out: dict[str, float] = {}
    for e in cascade.einsums:
        if e.group == "kv_cache":
            unit = placement[e.name]
            out[unit] = out.get(unit, 0.0) + cascade.tensors[e.output.tensor].bytes
    return out
