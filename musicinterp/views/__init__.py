"""Plotly figure builders: pure functions from results to figures."""
