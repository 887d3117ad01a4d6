from .context import DistillContext
from .dkd_distiller import DKDDistiller

__all__ = ['DKDDistiller', 'DistillContext']
