"""One module per weight-quantization scheme; each registers itself with `sim.numerics.registry`.

Adding a scheme or datatype is adding a module here (docs/numerics.md, "Adding a datatype").
"""
