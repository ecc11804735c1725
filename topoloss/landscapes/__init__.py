"""Landscapes: the contract every loss offers the pipeline, and neural-network losses.

The closed-form test functions and their exact barcodes live in :mod:`topoloss.analytic`.
"""

from topoloss.landscapes.base import Landscape, check_points
from topoloss.landscapes.model import ModelLandscape

__all__ = ["Landscape", "ModelLandscape", "check_points"]
