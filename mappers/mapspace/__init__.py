"""Mapspace search for PE arrays: the best loop nest per Einsum (`search`), the old fixed
output-stationary nest (`fixed`), the space itself (`space`) and whole cascades (`cascade`).
Candidates are scored by `sim.pe_array.cost.evaluate`."""
from mappers.mapspace.fixed import output_stationary
from mappers.mapspace.search import METHODS, OBJECTIVES, SearchResult, search

__all__ = ["METHODS", "OBJECTIVES", "SearchResult", "output_stationary", "search"]
