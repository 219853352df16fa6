"""The benchmark: `python -m bench` measures the portal against DESIGN §7 (see README.md)."""
