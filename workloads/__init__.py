"""Workloads: the extended-Einsum IR, the model zoo and the lowering of Transformers.

    from workloads import lower
    cascade = lower("gpt2", phase="decode", seq_len=1024)
    cascade.table()          # per-Einsum ops, MACs, bytes, intensity
    cascade.evaluate(inputs) # float64 numpy reference
"""
from .errors import SpecError
from .ir import Cascade
from .lower import Dtypes, lower
from .models import MODELS, ModelSpec, get_model

__all__ = ["Cascade", "Dtypes", "MODELS", "ModelSpec", "SpecError", "get_model", "lower"]
