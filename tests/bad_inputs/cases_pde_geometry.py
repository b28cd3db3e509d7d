from _case import BadInput

from jaxsci.pde.geometry import Disk, Polygon, Rectangle

CASES = [
    BadInput("pde-geometry-rectangle-order", lambda: Rectangle([1.0, 0.0], [0.0, 1.0]), ValueError, "lower < upper"),
    BadInput("pde-geometry-disk-radius", lambda: Disk([0.0, 0.0], -1.0), ValueError, "radius"),
    BadInput("pde-geometry-polygon-shape", lambda: Polygon([[0.0, 0.0], [1.0, 1.0]]), ValueError, "k >= 3"),
    BadInput("pde-geometry-polygon-area", lambda: Polygon([[0, 0], [1, 1], [2, 2]]), ValueError, "no area"),
    BadInput("pde-geometry-csg-dimension", lambda: Disk([0.0, 0.0], 1.0) - Disk([0.0, 0.0, 0.0], 1.0),
             ValueError, "one dimension"),
    BadInput("pde-geometry-csg-type", lambda: Disk([0.0, 0.0], 1.0) - 1.0, TypeError, "geometry shapes"),
    BadInput("pde-geometry-sample-key", lambda: Disk([0.0, 0.0], 1.0).sample(4), TypeError, "key="),
    BadInput("pde-geometry-sample-count", lambda: Disk([0.0, 0.0], 1.0).sample(0, key=None), ValueError,
             "positive integer"),
]
