"""Plain test helpers shared by tests and benchmarks (fixtures stay in the conftest files)."""
