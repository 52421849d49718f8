"""The reproduction entry point on a reduced grid: files written, averages arithmetic."""
import csv

import yaml

from experiments.reproductions.fusemax import reproduce

GRID = {"workloads": ["fusemax-t5"], "seq_lens": [1024, 4096], "designs": ["flat", "fusemax"],
        "batch": 1, "buffer_kib_sweep": [4096, 16384], "buffer_sweep_seq_len": 4096}


def test_aa_reproduce_reduced_grid_paper_and_cycle(tmp_path):
    for mode in ("paper", "cycle"):
        summ = reproduce(GRID, tmp_path, mode)
        with open(tmp_path / f"results_{mode}.csv") as fh:
            rows = list(csv.DictReader(fh))
        assert len(rows) == 4
        sp = [float(f["cycles"]) / float(m["cycles"])
              for f, m in zip(rows[0::2], rows[1::2])]
        assert summ["vs_flat"]["attention"]["speedup"] == sum(sp) / 2
        with open(tmp_path / f"summary_{mode}.yaml") as fh:
            assert yaml.safe_load(fh)["mode"] == mode
        for png in ("speedup_vs_seq_len", "utilization", "traffic_vs_buffer",
                    "fa2_bound_ratio_vs_buffer"):
            assert (tmp_path / f"plots_{mode}" / f"{png}.png").stat().st_size > 0
