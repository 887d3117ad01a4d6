"""One small recorder of module outputs via forward hooks."""
from typing import Any, Dict, Iterable

from torch import nn


class OutputRecorder:
    """Record the outputs of named submodules while the context is open.

    The hooks live only inside ``with recorder:``; outputs are kept in
    :attr:`outputs` (keyed by module name) until the next ``with`` block, so
    nothing leaks into ``state_dict`` or across steps.

    Args:
        model (nn.Module): The model that owns the modules.
        names (Iterable[str]): Dotted names in ``model.named_modules()``.
    """

    def __init__(self, model: nn.Module, names: Iterable[str]) -> None:
        modules = dict(model.named_modules())
        missing = [name for name in names if name not in modules]
        if missing:
            raise KeyError(f'no module named {missing} in '
                           f'{type(model).__name__}')
        self._modules = {name: modules[name] for name in names}
        self._handles: list = []
        self.outputs: Dict[str, Any] = {}

    def __enter__(self) -> 'OutputRecorder':
        self.outputs = {}
        for name, module in self._modules.items():
            self._handles.append(
                module.register_forward_hook(self._make_hook(name)))
        return self

    def __exit__(self, *exc_info) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _make_hook(self, name: str):

        def hook(module: nn.Module, inputs: Any, output: Any) -> None:
            self.outputs[name] = output

        return hook
