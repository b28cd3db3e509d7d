"""Neural ODEs on diffrax with counted function evaluations (NFE)."""

from jaxsci.nde._node import NeuralODE, nfe_count

__all__ = ["NeuralODE", "nfe_count"]
