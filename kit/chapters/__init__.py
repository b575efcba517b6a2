"""The chapters' declarations: one module, or a package, per chapter of the curriculum (kit/registry.py lists them)."""
