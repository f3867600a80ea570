"""gammarules.makers"""

from gammarules.makers.fov_background import FoVBackgroundMaker
from gammarules.makers.map import MapDatasetMaker, make_map_dataset
from gammarules.makers.ring import RingBackgroundMaker

__all__ = ["FoVBackgroundMaker", "MapDatasetMaker", "RingBackgroundMaker", "make_map_dataset"]
