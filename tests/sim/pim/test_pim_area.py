"""Area the PIM logic and the ASIC add, against the hand computation from the cited constants."""
import dataclasses

import pytest

from sim.pim.area import pim_area_mm2
from sim.pim.spec import PimSystem


def test_pim_gpt_area_by_hand():
    # 8 ch x 16 banks x 16 lanes x (FP16 mult 1640 + FP32 add 4184 um^2)  (Horowitz 2014, 45 nm)
    mac = 8 * 16 * 16 * (1640 + 4184) * 1e-6
    # 8 x 2 KB global buffers, 8 bitcells/byte x 0.346 um^2 / 0.5 array efficiency (45 nm)
    gb = 8 * 2048 * 8 * 0.346 / 0.5 * 1e-6
    # ASIC at 28 nm: 16 x (FP32 add 4184 + mult 7700) x (28/45)^2 + 64 KiB x 8 x 0.127 / 0.5
    asic = 16 * (4184 + 7700) * (28 / 45) ** 2 * 1e-6 + 65536 * 8 * 0.127 / 0.5 * 1e-6
    out = pim_area_mm2(PimSystem())
    assert out["area_pim_mac_mm2"] == pytest.approx(mac)
    assert out["area_global_buffer_mm2"] == pytest.approx(gb)
    assert out["area_asic_mm2"] == pytest.approx(asic)
    assert out["area_mm2"] == pytest.approx(mac + gb + asic)
    assert out["area_mm2"] == pytest.approx(12.225, abs=1e-3)


def test_area_scales_with_channels_and_asic_lanes():
    base = pim_area_mm2(PimSystem())
    two = pim_area_mm2(dataclasses.replace(PimSystem(), channels=16, asic_lanes=32))
    assert two["area_pim_mac_mm2"] == pytest.approx(2 * base["area_pim_mac_mm2"])
    assert two["area_global_buffer_mm2"] == pytest.approx(2 * base["area_global_buffer_mm2"])
    lanes = 16 * (4184 + 7700) * (28 / 45) ** 2 * 1e-6
    assert two["area_asic_mm2"] - base["area_asic_mm2"] == pytest.approx(lanes)
