"""Attention tiling and fusion mappings with exact off-chip traffic, the I/O lower bound and search.

Modules: ``layer`` (the layer spec), ``loopnest`` (loop-nest IR and exact traffic counter),
``mapping`` (a mapping: nests + footprint), ``designs`` (unfused, FLAT, FlashAttention-1/-2,
FuseMax), ``bound`` (concrete lower bounds), ``closed_form`` (search-only closed forms, proven equal
to the counter), ``search`` (tile and loop-order search), ``cascade`` (the attention layers of a
lowered cascade), ``array`` (tile rules and plans for the FuseMax-style array), ``contract``
(``map(cascade, arch, strategy, mode) -> sim.contract.Mapping``). See docs/attention.md.
"""
from mappers.attention.array import best_plan, choose_mapping, plan_of
from mappers.attention.bound import TrafficBound, traffic_bound
from mappers.attention.cascade import attention_shapes
from mappers.attention.contract import map_cascade
from mappers.attention.designs import DESIGNS, build
from mappers.attention.layer import AttentionLayer
from mappers.attention.loopnest import TrafficCount, count_traffic
from mappers.attention.mapping import AttentionMapping
from mappers.attention.search import Objective, SearchResult, best_overall, search, search_design

map = map_cascade  # noqa: A001 -- the contract's name: map(cascade, arch, strategy, mode) -> Mapping

__all__ = [
    "DESIGNS", "attention_shapes", "best_plan", "choose_mapping", "map", "map_cascade", "plan_of", "AttentionLayer", "AttentionMapping", "Objective", "SearchResult", "TrafficBound",
    "TrafficCount", "best_overall", "build", "count_traffic", "search", "search_design",
    "traffic_bound",
]
