"""Plain typed maths shared by dkd_mm's losses.

Imports nothing from the rest of dkd_mm.
"""
from .attention import channel_attention, spatial_attention
from .box_deltas import box_deltas
from .box_masks import (background_weights, cell_centers, feature_strides,
                        foreground_mask, points_in_boxes)
from .boxes import box_areas, box_centers, box_sides, box_tensor, image_boxes
from .fgd import fgd_masks, global_context
from .hardness import box_hardness, status_weights
from .instance_selection import (MISS_LOSS, OUTLIER_RULES, Selection,
                                 flatten_gt_index, gt_det_losses,
                                 instance_det_losses, outlier_limit,
                                 pairwise_iou, select_instances)
from .levels import paired_levels
from .normalize import pearson_normalize
from .relation import cosine_matrix, relation_loss, relation_matrix
from .roi_features import map_roi_levels, roi_features

__all__ = [
    'background_weights', 'box_areas', 'box_centers', 'box_deltas',
    'box_hardness', 'box_sides', 'box_tensor', 'cell_centers',
    'channel_attention', 'cosine_matrix', 'feature_strides', 'foreground_mask',
    'image_boxes', 'paired_levels', 'points_in_boxes', 'relation_loss',
    'relation_matrix', 'spatial_attention', 'status_weights', 'MISS_LOSS',
    'Selection', 'flatten_gt_index', 'gt_det_losses', 'instance_det_losses',
    'pairwise_iou', 'select_instances', 'map_roi_levels', 'roi_features',
    'fgd_masks', 'global_context', 'pearson_normalize', 'OUTLIER_RULES',
    'outlier_limit'
]
