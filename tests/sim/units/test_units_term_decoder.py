"""Code-to-term decoder model: every code of every datatype decodes to terms whose values sum to
the code's value (`sim.numerics` decode), in the PE's term field, with the stream timing."""
import pytest

from sim.numerics.terms import term_cycles
from sim.units.bitserial_pe import DATATYPES
from sim.units.term_decoder import TERM_CYCLES, TermDecoderModel, WeightSlot


def _value(field: int) -> float:
    nz, neg, shift = field & 1, field >> 1 & 1, field >> 2
    return (-1.0 if neg else 1.0) * 2.0 ** (shift - 1) if nz else 0.0


@pytest.mark.parametrize("index", range(len(DATATYPES)), ids=[d.name for d in DATATYPES])
def test_every_code_decodes_to_terms_summing_to_its_value(index):
    dtype = DATATYPES[index]
    model = TermDecoderModel(lanes=1)
    assert TERM_CYCLES[index] == term_cycles(dtype)
    for code in range(2**dtype.bits):
        fields = [f[0] for f in model.terms_of(WeightSlot(index, (code,)))]
        assert len(fields) == TERM_CYCLES[index]
        assert sum(_value(f) for f in fields) == float(dtype.decode(code))
        assert all(f & 0b11 != 0b10 for f in fields)          # a zero term is never negative


def test_stream_timing_back_to_back_and_protocol():
    model = TermDecoderModel(lanes=2)
    a, b = WeightSlot(0, (1, 255)), WeightSlot(2, (3, 8))
    stim = [a, None, None, None, b, None]
    outs, cycles = model.run(stim)
    assert cycles == [0, 1, 2, 3, 4, 5]
    assert [last for _, last in outs] == [0, 0, 0, 1, 0, 1]
    lane1 = [(packed >> 6) & 0x3F for packed, _ in outs[:4]]
    assert sum(_value(f) for f in lane1) == -1.0
    with pytest.raises(ValueError, match="pending"):
        model.run([a, None, b])
    with pytest.raises(ValueError, match="lanes"):
        model.run([WeightSlot(0, (1,))])
