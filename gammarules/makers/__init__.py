"""gammarules.makers"""

from gammarules.makers.map import MapDatasetMaker, make_map_dataset

__all__ = ["MapDatasetMaker", "make_map_dataset"]
