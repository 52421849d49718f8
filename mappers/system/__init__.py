"""Placement of a cascade's Einsums on the units of a heterogeneous system (`sim.system`).

`place` (rule-based `auto`, or an explicit placement file's rules), `search` (exhaustive over the
compute classes x capable units, scored by the system scheduler). See docs/system.md.
"""
from .placement import CLASSES, PlacementRules, load_rules, place, resolve, role, roles, to_mapping
from .search import OBJECTIVES, SearchOutcome, metric, search, search_space

__all__ = ["CLASSES", "OBJECTIVES", "PlacementRules", "SearchOutcome", "load_rules", "metric", "place", "resolve",
           "role", "roles", "search", "search_space", "to_mapping"]
