"""PIM-GPT mapping of GPT decode cascades onto PIM channels, the ASIC and the channel buses."""
from mappers.pim.classify import Placement, classify
from mappers.pim.decode import DecodeSteps
from mappers.pim.layout import context_tiles, gemv_tiles, score_tiles
from mappers.pim.mapper import map, map_decode
from mappers.pim.plan import PimPlan

__all__ = ["DecodeSteps", "Placement", "PimPlan", "classify", "context_tiles", "gemv_tiles", "map",
           "map_decode", "score_tiles"]
