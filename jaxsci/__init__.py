"""jaxsci: JAX functional numerics for scientific machine learning.

Subpackages (import them explicitly, e.g. ``from jaxsci import taylor``):

- :mod:`jaxsci.core`: shared primitives (chunked vmap, least squares, PRNG, validation).
- :mod:`jaxsci.taylor`: Taylor-mode differential operators, exact and stochastic (STDE).
"""

__version__ = "0.1.0"
