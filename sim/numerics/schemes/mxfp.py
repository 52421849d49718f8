"""`mxfp`: OCP MX, 32-element blocks with an E8M0 scale (4 bits: MXFP4; 3 bits: the MX rule over
the E2M0 grid, which the spec does not define — as the BitMoD authors' scripts do)."""
from sim.numerics.mx import MX_BLOCK_SIZE, MXFP3_E2M0, MXFP4
from sim.numerics.quantizers import QuantSpec, Quantized, quantize_mx
from sim.numerics.registry import Scheme, register


def quantize_mxfp(w, bits: int, spec: QuantSpec) -> Quantized:
    return quantize_mx(w, MXFP4 if bits == 4 else MXFP3_E2M0)


SCHEME = register(Scheme("mxfp", quantize_mxfp, bits=(3, 4), order=3, block_size=MX_BLOCK_SIZE,
                         source="OCP Microscaling Formats (MX) v1.0 §5, §6.3"))
