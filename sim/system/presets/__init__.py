"""System presets: one YAML file per preset (`<name>.yaml`), loaded by `sim.system.spec.load_system`."""
