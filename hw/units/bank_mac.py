"""PIM bank MAC: N-lane BF16 multiply, FP32 adder tree, FP32 accumulator (RTL).

The processing unit beside one DRAM bank in AiM-style (SK hynix GDDR6-AiM, ISSCC 2022) and
HBM-PIM-style (Samsung, ISCA 2021) PIM: each MAC command delivers one column burst of N BF16
weights from the bank's row buffer (`weights`, 16*N bits, lane i in bits [16i, 16i+16)) together
with N BF16 vector elements from the global buffer (`vector`). The unit multiplies lane-wise,
reduces the N FP32 products with a pipelined binary adder tree and adds the tree sum into an
FP32 accumulator. AiM and HBM-PIM both use 16 lanes (one 256-bit column); see
`sim.units.bank_mac` for the sources and for the exact arithmetic this RTL reproduces.

Protocol, one burst per cycle at most:

* `valid` marks a burst; `clear` on a burst starts a new dot product (the accumulator is
  treated as +0 before this burst is added); `last` on a burst requests the result.
* Pipeline: products registered at the sampling edge, one register per adder-tree level,
  then the accumulator: `latency_cycles = log2(N) + 1` edges after sampling, `done` is high for
  one cycle and `result` (the accumulator register) holds the FP32 dot product.
"""
from __future__ import annotations

import random
from typing import Mapping

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hw.lib.fp import bf16_mul, fp32_add
from hw.units.base import ParamSpec, UnitDef
from sim.units.bank_mac import BankMacModel, Burst


class BankMac(wiring.Component):
    """N-lane BF16 MAC with a registered FP32 adder tree and an FP32 accumulator."""

    def __init__(self, lanes: int = 16):
        if lanes < 2 or lanes & (lanes - 1):
            raise ValueError(f"lanes must be a power of two >= 2, got {lanes}")
        self.lanes = lanes
        super().__init__({
            "weights": In(16 * lanes),
            "vector": In(16 * lanes),
            "valid": In(1),
            "clear": In(1),
            "last": In(1),
            "result": Out(32),
            "done": Out(1),
        })

    @property
    def latency_cycles(self) -> int:
        return self.lanes.bit_length()

    def elaborate(self, platform):
        m = Module()
        level = []
        for i in range(self.lanes):
            prod = Signal(32, name=f"prod{i}")
            m.d.sync += prod.eq(bf16_mul(m, self.weights.word_select(i, 16),
                                         self.vector.word_select(i, 16), f"mul{i}"))
            level.append(prod)
        ctrl = Signal(3, name="ctrl0")
        m.d.sync += ctrl.eq(Mux(self.valid, self.valid | self.clear << 1 | self.last << 2, 0))

        depth = 0
        while len(level) > 1:
            depth += 1
            nxt = []
            for j in range(0, len(level), 2):
                s = Signal(32, name=f"tree{depth}_{j // 2}")
                m.d.sync += s.eq(fp32_add(m, level[j], level[j + 1], f"add{depth}_{j // 2}"))
                nxt.append(s)
            level = nxt
            ctrl_next = Signal(3, name=f"ctrl{depth}")
            m.d.sync += ctrl_next.eq(ctrl)
            ctrl = ctrl_next

        acc = Signal(32)
        valid, clear, last = ctrl[0], ctrl[1], ctrl[2]
        acc_sum = fp32_add(m, Mux(clear, 0, acc), level[0], "acc")
        with m.If(valid):
            m.d.sync += acc.eq(acc_sum)
        m.d.sync += self.done.eq(valid & last)
        m.d.comb += self.result.eq(acc)
        return m


# --- streaming test interface -------------------------------------------------------------

_SPECIALS = (0x0000, 0x8000, 0x7F7F, 0xFF7F, 0x0080, 0x8080, 0x0001, 0x807F, 0x7F80, 0xFF80,
             0x7FC0, 0x7F81, 0xFFC0, 0x3F80, 0xBF80)


def _typical(rng: random.Random) -> int:
    return rng.getrandbits(1) << 15 | rng.randint(112, 142) << 7 | rng.getrandbits(7)


def _random_burst(lanes: int, rng: random.Random) -> tuple[list[int], list[int]]:
    mode = rng.random()
    if mode < 0.80:
        w = [_typical(rng) for _ in range(lanes)]
        x = [_typical(rng) for _ in range(lanes)]
    elif mode < 0.88:
        w = [rng.getrandbits(16) for _ in range(lanes)]
        x = [rng.getrandbits(16) for _ in range(lanes)]
    elif mode < 0.94:
        w = [_typical(rng) for _ in range(lanes)]
        x = [_typical(rng) for _ in range(lanes)]
        for _ in range(rng.randint(1, 2)):
            (w if rng.random() < 0.5 else x)[rng.randrange(lanes)] = rng.choice(_SPECIALS)
    else:
        half = [_typical(rng) for _ in range(lanes // 2)]
        w = half + [h ^ 0x8000 for h in half]
        x = [_typical(rng)] * lanes
    return w, x


def _edge_cases(lanes: int, rng: random.Random) -> list[Burst | None]:
    n = lanes
    def one(w, x, clear=True, last=True):
        return Burst(tuple(w), tuple(x), clear, last)
    cases = [
        one([0] * n, [0] * n),
        one([0x8000] * n, [0x3F80] * n),
        one([0x7F7F] * n, [0x7F7F] * n),
        one([0x7F7F] * n, [0xFF7F] * n),
        one([0x0080] * n, [0x0080] * n),
        one([0x0001] * n, [0x7F7F] * n),
        one([0x807F] * n, [0x3F80] * n),
        one([0x7F80] + [0x3F80] * (n - 1), [0x3F80] * n),
        one([0x7F80, 0xFF80] + [0] * (n - 2), [0x3F80] * n),
        one([0x7F80] + [0] * (n - 1), [0] * n),
        one([0x7FC0] + [0x3F80] * (n - 1), [0x3F80] * n),
        one([0x3F80, 0x3380] + [0] * (n - 2), [0x3F80] * n),
        one([0x3F81, 0x3380] + [0] * (n - 2), [0x3F80] * n),
        one([0x3F80, 0xB380] + [0] * (n - 2), [0x3F80] * n),
        one([0x3F80, 0xBF80] + [0] * (n - 2), [0x3F80] * n),
    ]
    cases += [one([0x7F7F] * n, [0x7F00] * n, clear=i == 0, last=i == 7) for i in range(8)]
    long = 600
    for i in range(long):
        w, x = [_typical(rng) for _ in range(n)], [_typical(rng) for _ in range(n)]
        cases.append(Burst(tuple(w), tuple(x), i == 0, i == long - 1))
    for i in range(300):
        cases.append(Burst(tuple([0x3F80] * n), tuple([0x3380 + (i % 3)] * n), i == 0, i == 299))
    return cases


def stimulus(params: Mapping[str, int], n: int, rng: random.Random) -> list[Burst | None]:
    """n random bursts grouped into dot products of 1..32 bursts, 10 % bubbles, then edge cases."""
    lanes = params["lanes"]
    out: list[Burst | None] = []
    made = 0
    while made < n:
        length = min(rng.randint(1, 32), n - made)
        for i in range(length):
            if rng.random() < 0.1:
                out.append(None)
            w, x = _random_burst(lanes, rng)
            out.append(Burst(tuple(w), tuple(x), i == 0, i == length - 1))
        made += length
    return out + _edge_cases(lanes, rng)


def encode(params: Mapping[str, int], burst: Burst | None) -> tuple[int, ...]:
    if burst is None:
        return (0, 0, 0, 0, 0)
    w = sum(v << (16 * i) for i, v in enumerate(burst.weights))
    x = sum(v << (16 * i) for i, v in enumerate(burst.vector))
    return (w, x, 1, int(burst.clear), int(burst.last))


UNIT = UnitDef(
    name="bank_mac",
    summary="PIM bank MAC: N-lane BF16 multiply, FP32 adder tree and accumulator",
    params=(ParamSpec("lanes", 16, 2, 64, "BF16 lanes per column burst (AiM/HBM-PIM: 16)",
                      power_of_two=True),),
    build=lambda p: BankMac(p["lanes"]),
    model=lambda p: BankMacModel(p["lanes"]),
    inputs=("weights", "vector", "valid", "clear", "last"),
    outputs=("result",),
    out_valid="done",
    encode=encode,
    stimulus=stimulus,
    width_param="lanes",
    sweep=({"lanes": 4}, {"lanes": 8}, {"lanes": 16}),
)
