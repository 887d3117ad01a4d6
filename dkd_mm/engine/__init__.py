from .ddp import DKDDistributedDataParallel

__all__ = ['DKDDistributedDataParallel']
