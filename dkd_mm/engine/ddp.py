"""A DDP wrapper that also runs on CPU (gloo).

mmengine's Runner passes ``device_ids=[LOCAL_RANK]`` to every
``DistributedDataParallel`` subclass, which torch refuses for a CPU module.
This wrapper drops ``device_ids`` when the module's parameters live on the
CPU and is otherwise mmengine's ``MMDistributedDataParallel`` unchanged, so
GPU runs behave exactly as upstream.
"""
from typing import Any, Optional, Sequence

from mmengine.model import MMDistributedDataParallel
from torch import nn

from dkd_mm.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class DKDDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` that accepts CPU modules.

    Args:
        module (nn.Module): The model to wrap.
        device_ids (Sequence[int], optional): Kept for CUDA modules,
            dropped for CPU modules. Defaults to None.
        **kwargs: Passed to ``MMDistributedDataParallel``.
    """

    def __init__(self,
                 module: nn.Module,
                 device_ids: Optional[Sequence[int]] = None,
                 **kwargs: Any) -> None:
        param = next(module.parameters(), None)
        if param is not None and param.device.type == 'cpu':
            device_ids = None
        super().__init__(module=module, device_ids=device_ids, **kwargs)
