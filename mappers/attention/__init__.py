"""Attention tiling and fusion mappings with exact off-chip traffic, the I/O lower bound and search.

Modules: ``layer`` (the layer spec), ``loopnest`` (loop-nest IR and exact traffic counter),
``mapping`` (a mapping: nests + footprint), ``designs`` (unfused, FLAT, FlashAttention-1/-2,
FuseMax), ``bound`` (concrete lower bounds), ``closed_form`` (search-only closed forms, proven equal
to the counter), ``search`` (tile and loop-order search). See docs/attention.md.
"""
from mappers.attention.bound import TrafficBound, traffic_bound
from mappers.attention.designs import DESIGNS, build
from mappers.attention.layer import AttentionLayer
from mappers.attention.loopnest import TrafficCount, count_traffic
from mappers.attention.mapping import AttentionMapping
from mappers.attention.search import Objective, SearchResult, best_overall, search, search_design

__all__ = [
    "DESIGNS", "AttentionLayer", "AttentionMapping", "Objective", "SearchResult", "TrafficBound",
    "TrafficCount", "best_overall", "build", "count_traffic", "search", "search_design",
    "traffic_bound",
]
