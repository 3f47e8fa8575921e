"""The simulation's stages, in the order a real platform rollout would see the data."""
