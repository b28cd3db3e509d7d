"""Problem definitions shared by the method families: domains, operators, initial and
boundary conditions, and exact solutions or classical reference solvers.

Each group of problems lives in its own module; the families import what they need.
"""
