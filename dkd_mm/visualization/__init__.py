"""Pictures of what DKD distils: GD maps per level and ISD selections."""
from .distill_panels import (ISD_COLOURS, DrawnBox, candidate_kinds, isd_panel,
                             level_name, level_panel)
from .drawing import box_corners, draw_boxes, edge_midpoints, heatmap

__all__ = [
    'ISD_COLOURS', 'DrawnBox', 'candidate_kinds', 'isd_panel', 'level_name',
    'level_panel', 'box_corners', 'draw_boxes', 'edge_midpoints', 'heatmap'
]
