"""Heterogeneous systems: units of the four families joined by links, scheduled over the cascade.

* `spec`: `UnitSpec`, `LinkSpec`, `SystemSpec`, presets (`sim/system/presets/*.yaml`), routing;
* `costs`: `UnitCosts`, one unit's per-Einsum rows (built by `experiments.system.costs`);
* `schedule`: list scheduling of a placed cascade over units and links -> a `Result` (family
  "system"), with the latency accounting stated there.

Placement (which unit runs each Einsum) is `mappers.system`; per-unit costs, requests (TTFT, TPOT,
J/token, memory) and the CLI are `experiments.system`. See docs/system.md.
"""
from sim.system.costs import UnitCosts
from sim.system.schedule import Dag, Timeline, exposed_latency, schedule, timeline
from sim.system.spec import FAMILIES, LinkSpec, SystemSpec, UnitSpec, load_system, parse_system, preset_names

__all__ = ["FAMILIES", "Dag", "LinkSpec", "SystemSpec", "Timeline", "UnitCosts", "UnitSpec", "exposed_latency",
           "load_system", "parse_system", "preset_names", "schedule", "timeline"]
