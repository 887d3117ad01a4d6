from .synthetic_dota import (PRESETS, SYNTHETIC_CLASSES, SYNTHETIC_PALETTE,
                             SyntheticDOTAConfig, generate_synthetic_dota)

__all__ = [
    'PRESETS', 'SYNTHETIC_CLASSES', 'SYNTHETIC_PALETTE', 'SyntheticDOTAConfig',
    'generate_synthetic_dota'
]
