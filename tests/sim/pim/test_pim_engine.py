"""PIM command streams: checker-clean event-driven traces and fast-path equality."""
import pytest

from sim.dram.checker import check_trace
from sim.dram.spec import load_standard
from sim.pim.engine import run_event, run_fast
from sim.pim.stream import AsicStep, PimStep, Tile

STD = load_standard("GDDR6-AiM")


def _gemv_step(name, n_tiles, segments, macs, gb_every, channels):
    tiles = []
    for ch in range(channels):
        tl = [Tile(row=t, segments=segments, macs_per_segment=macs,
                   gb_bursts=(macs * segments if t % gb_every == 0 else 0))
              for t in range(n_tiles + ch % 2)]
        tiles.append(tuple(tl))
    return PimStep(name, tuple(tiles))


SHAPES = [
    [_gemv_step("w", 40, 1, 64, 1000, 2)],
    [_gemv_step("w", 30, 1, 48, 7, 2), AsicStep("a", 500), _gemv_step("k", 20, 16, 4, 5, 2)],
    [_gemv_step("v", 25, 1, 36, 3, 3), AsicStep("t", 9000, "transfer"), _gemv_step("w", 60, 1, 64, 60, 3)],
]


@pytest.mark.parametrize("steps", SHAPES)
def test_event_trace_is_checker_clean_and_fast_path_matches(steps):
    channels = len(steps[0].tiles)
    ev = run_event(STD, steps, channels)
    assert ev.counts.get("REF", 0) > 0
    assert check_trace(STD, ev.trace, max_postponed=0, end_cycle=ev.cycles) == []
    fast = run_fast(STD, steps, channels)
    assert fast.cycles == ev.cycles
    assert fast.counts == ev.counts
    assert [(s.start_cycle, s.end_cycle, s.refresh_cycles, s.transfer_cycles) for s in fast.steps] == \
        [(s.start_cycle, s.end_cycle, s.refresh_cycles, s.transfer_cycles) for s in ev.steps]


def test_mac_stream_spacing_matches_closed_form_without_refresh():
    steps = [PimStep("one", ((Tile(row=0, segments=1, macs_per_segment=64, gb_bursts=64),),))]
    ev = run_event(STD, steps, 1, refresh=False)
    t = STD.timings
    # 64 WR_GB at nBL spacing, MAC after tGBW, ACT_AB right after the last WR_GB, MACs after tRCD
    last_wr = 63 * t["nBL"]
    act = last_wr + 1
    first_mac = max(act + t["nRCDRD"], last_wr + t["nCWL"] + t["nBL"])
    last_mac = first_mac + 63 * t["nMAC"]
    rd = last_mac + t["nMACLAT"]
    pre = max(rd + 1, last_mac + t["nRTP"], act + t["nRAS"])
    assert [c for c, *_ in ev.trace][-3:] == [last_mac, rd, pre]
    assert ev.cycles == max(pre + 1, rd + t["nCL"] + t["nBL"])
    assert check_trace(STD, ev.trace, check_refresh=False) == []


def test_injected_mac_before_trcd_is_caught():
    steps = [PimStep("one", ((Tile(row=0, segments=1, macs_per_segment=4),),))]
    trace = list(run_event(STD, steps, 1, refresh=False).trace)
    act = next(c for c in trace if c[1] == "ACT_AB")
    mac = next(i for i, c in enumerate(trace) if c[1] == "MAC_AB")
    trace[mac] = (act[0] + 1,) + trace[mac][1:]
    names = {v.constraint for v in check_trace(STD, trace, check_refresh=False)}
    assert "tRCD" in names
