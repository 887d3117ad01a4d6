from .dkd_distiller import DKDDistiller

__all__ = ['DKDDistiller']
