"""PIM-GPT mapping of GPT decode cascades onto PIM channels and the ASIC."""
from mappers.pim.mapper import PimPlan, gemv_tiles, map_decode

__all__ = ["PimPlan", "gemv_tiles", "map_decode"]
