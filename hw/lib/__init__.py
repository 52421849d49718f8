"""Reusable combinational building blocks for the RTL units (floating point, shifters)."""
