"""Energy and traffic of PIM-GPT work by component, from command counts and ASIC time.

* `mac`: every MAC_AB drives all banks' lanes once: banks x lanes x `mac_pj` (Horowitz, 45 nm).
* `bank_read`: every MAC_AB reads one 32 B column per bank inside the DRAM (no I/O):
  banks x 256 bits x `bank_read_pj_per_bit` (assumption, `sim.pim.spec`).
* `activate`: every ACT_AB opens a row in all banks: banks x `act_pj_per_bank` (assumption).
* `io`: 32 B bursts over a channel bus (WR_GB into the global buffer, RD_MAC results out) and the
  bytes of KV appends, at the GDDR6 I/O energy `io_pj_per_bit`.
* `asic`: `asic_power_w` x the time of the ASIC's vector steps.
REF commands are not charged (as before this split: PIM-GPT's energy accounting has no refresh).

Traffic: `offchip_bytes` = bytes over the channel buses (bursts and appends); `bytes_bank` = bytes
the MAC units read from the banks' arrays.
"""
from __future__ import annotations

from sim.pim.spec import PimSystem
from sim.pim.stream import BURST_BYTES

COMPONENTS = ("mac", "bank_read", "activate", "io", "asic")


def energy_parts_j(counts: dict[str, int], asic_s: float, link_bytes: float,
                   system: PimSystem) -> dict[str, float]:
    """`energy_<component>_j` of work that issued `counts` commands, spent `asic_s` seconds on
    the ASIC and appended `link_bytes` to the cache (see the module docstring)."""
    mac_ab = counts.get("MAC_AB", 0)
    bursts = counts.get("WR_GB", 0) + counts.get("RD_MAC", 0)
    bits_burst = BURST_BYTES * 8
    pj = {"mac": mac_ab * system.banks * system.lanes * system.mac_pj,
          "bank_read": mac_ab * system.banks * bits_burst * system.bank_read_pj_per_bit,
          "activate": counts.get("ACT_AB", 0) * system.banks * system.act_pj_per_bank,
          "io": (bursts * bits_burst + link_bytes * 8) * system.io_pj_per_bit}
    out = {f"energy_{k}_j": v * 1e-12 for k, v in pj.items()}
    out["energy_asic_j"] = system.asic_power_w * asic_s
    return out


def traffic_bytes(counts: dict[str, int], link_bytes: float, system: PimSystem) -> dict[str, float]:
    """`offchip_bytes` (channel buses) and `bytes_bank` (in-bank column reads) of that work."""
    bursts = counts.get("WR_GB", 0) + counts.get("RD_MAC", 0)
    return {"offchip_bytes": float(bursts * BURST_BYTES + link_bytes),
            "bytes_bank": float(counts.get("MAC_AB", 0) * system.banks * BURST_BYTES)}
