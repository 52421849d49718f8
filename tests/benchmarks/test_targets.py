"""The Targets table of `make bench`: measured from the named rows, a ratio of two rows, or missing."""
from benchmarks.targets import TARGETS, table


def test_targets_are_measured_from_their_rows():
    roof = "roofline sweep, local engine, {} worker(s), 392 points"
    rows = [{"module": "bench_pim", "benchmark": "pim_family_sweep", "metric": "points_per_s", "value": 99.0},
            {"module": "bench_sweep", "benchmark": roof.format(1), "metric": "throughput", "value": 100.0},
            {"module": "bench_sweep", "benchmark": roof.format(2), "metric": "throughput", "value": 180.0}]
    lines = table(rows).splitlines()
    assert len(lines) == 2 + len(TARGETS)
    assert "| PIM family points/s | >= 100 | 99 | no |" in lines
    assert "| roofline sweep points/s, --jobs 2 over --jobs 1 | >= 1.7 | 1.8 | yes |" in lines
    assert any(line.endswith("| — | not measured |") for line in lines)
