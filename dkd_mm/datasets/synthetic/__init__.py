"""The seeded renderer of the embedded DOTA-format data set.

:mod:`.shapes` draws object sprites, :mod:`.layout` the background regions
(land, water, airfield, roads), :mod:`.scene` places objects where their
context makes sense, and :mod:`.generator` writes the images, label files
and ``meta.json``.  Plain numpy and cv2: nothing here registers a module.
"""
from .generator import (GENERATOR_NAME, PRESETS, SyntheticDOTAConfig,
                        dota_lines, generate_synthetic_dota, render_image)
from .scene import (CLASS_SIZES, SYNTHETIC_CLASSES, SYNTHETIC_PALETTE,
                    SyntheticScene, render_scene)
from .shapes import fill_polygon, rbox_to_corners

__all__ = [
    'GENERATOR_NAME', 'PRESETS', 'SyntheticDOTAConfig', 'dota_lines',
    'generate_synthetic_dota', 'render_image', 'CLASS_SIZES',
    'SYNTHETIC_CLASSES', 'SYNTHETIC_PALETTE', 'SyntheticScene', 'render_scene',
    'fill_polygon', 'rbox_to_corners'
]
