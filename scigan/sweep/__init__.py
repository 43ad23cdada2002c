"""Sweeps: a grid of configurations of one case study, each point an ordinary run directory,
trained, evaluated, tabulated (results.csv) and selected (selection.json)."""
