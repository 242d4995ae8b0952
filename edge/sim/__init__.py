"""Simulators, the demo and a private test broker: tools around the product, not the product."""
