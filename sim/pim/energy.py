"""Energy and traffic of PIM-GPT work by component, from command counts and ASIC time.

* `mac`: every MAC_AB (and AiM's EWMUL) drives all banks' lanes once: banks x lanes x `mac_pj`
  (Horowitz, 45 nm).
* `bank_read`: every MAC_AB / EWMUL reads one 32 B column per bank inside the DRAM (no I/O):
  banks x 256 bits x `bank_read_pj_per_bit` (assumption, `sim.pim.spec`); an AiM COPY_BKGB /
  COPY_GBBK moves one 32 B column between one bank and the global buffer (256 bits).
* `activate`: every ACT_AB opens a row in all banks: banks x `act_pj_per_bank` (assumption).
* `io`: 32 B bursts over a channel bus (WR_GB into the global buffer, RD_MAC results out; AiM's
  WR_BIAS and RD_AF too) and the bytes of KV appends, at the GDDR6 I/O energy `io_pj_per_bit`.
TMOD, AF (a LUT lookup), SYNC and EOC are not charged (no cited figure).
* `asic`: `asic_power_w` x the time of the ASIC's vector steps.
REF commands are not charged (as before this split: PIM-GPT's energy accounting has no refresh).

Traffic: `offchip_bytes` = bytes over the channel buses (bursts and appends); `bytes_bank` = bytes
the MAC units read from the banks' arrays. Both functions take scalars or numpy arrays (one
entry per Einsum: counts as arrays, `asic_s` and `link_bytes` alike) and compute column-wise.
"""
from __future__ import annotations

from sim.pim.spec import PimSystem
from sim.pim.stream import BURST_BYTES, BUS_COMMANDS

COMPONENTS = ("mac", "bank_read", "activate", "io", "asic")


def energy_parts_j(counts: dict[str, int], asic_s: float, link_bytes: float,
                   system: PimSystem) -> dict[str, float]:
    """`energy_<component>_j` of work that issued `counts` commands, spent `asic_s` seconds on
    the ASIC and appended `link_bytes` to the cache (see the module docstring)."""
    mac_ab = counts.get("MAC_AB", 0) + counts.get("EWMUL", 0)
    bursts = sum(counts.get(name, 0) for name in BUS_COMMANDS)
    bits_burst = BURST_BYTES * 8
    copies = counts.get("COPY_BKGB", 0) + counts.get("COPY_GBBK", 0)
    pj = {"mac": mac_ab * system.banks * system.lanes * system.mac_pj,
          "bank_read": (mac_ab * system.banks + copies) * bits_burst * system.bank_read_pj_per_bit,
          "activate": counts.get("ACT_AB", 0) * system.banks * system.act_pj_per_bank,
          "io": (bursts * bits_burst + link_bytes * 8) * system.io_pj_per_bit}
    out = {f"energy_{k}_j": v * 1e-12 for k, v in pj.items()}
    out["energy_asic_j"] = system.asic_power_w * asic_s
    return out


def traffic_bytes(counts: dict[str, int], link_bytes: float, system: PimSystem) -> dict[str, float]:
    """`offchip_bytes` (channel buses) and `bytes_bank` (in-bank column reads) of that work."""
    bursts = sum(counts.get(name, 0) for name in BUS_COMMANDS)
    mac_ab = counts.get("MAC_AB", 0) + counts.get("EWMUL", 0)
    copies = counts.get("COPY_BKGB", 0) + counts.get("COPY_GBBK", 0)
    return {"offchip_bytes": bursts * float(BURST_BYTES) + link_bytes,
            "bytes_bank": (mac_ab * system.banks + copies) * float(BURST_BYTES)}
