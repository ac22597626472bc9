"""Generators: pure functions from the validated config to rules, configs, manifests, dashboard."""

from arbqos.generators.render import render_all, run_render

__all__ = ["render_all", "run_render"]
