"""Pipeline: closed form without stalls, fast path equal to the event-driven model."""
import pytest

from sim.attention_array.pipeline import Op, simulate, simulate_uniform


def _chain(times):
    def make(n):
        return [Op(j, f"r{k}", t) for j in range(n) for k, t in enumerate(times)]
    return make


def test_aa_no_stall_closed_form():
    times = (5, 9, 3)
    n = 50
    res = simulate(_chain(times)(n), window=3)
    assert res.cycles == sum(times) + (n - 1) * max(times)
    assert res.busy_cycles == {"r0": 5 * n, "r1": 9 * n, "r2": 3 * n}


def _softpipe(c0, c2a, c1, c2b):
    def make(n):
        seq = []
        for j in range(n):
            seq += [Op(j, "dram", c0), Op(j, "2d", c2a)]
            if j:
                seq += [Op(j - 1, "1d", c1), Op(j - 1, "2d", c2b)]
            if j == n - 1:
                seq += [Op(j, "1d", c1), Op(j, "2d", c2b)]
        return seq
    return make


@pytest.mark.parametrize("make", [_chain((7, 3, 11)), _chain((2, 13, 5)),
                                  _softpipe(4, 10, 37, 10), _softpipe(30, 5, 7, 5),
                                  _softpipe(3, 17, 19, 2)])
@pytest.mark.parametrize("n", [1, 5, 40, 257, 300])
def test_aa_fast_path_equals_event_model(make, n):
    assert simulate_uniform(make, n, 2) == simulate(make(n), 2)
