"""Benchmark-only shim that lets mmrazor 1.0.0 import on torch 2.13.

mmrazor 1.0.0's quantization backend config imports ``reverse2``,
``reverse3`` and ``reverse_sequential_wrapper2`` from
``torch.ao.quantization.fuser_method_mappings``; torch renamed them to
``_reverse2``, ``_reverse3`` and ``_sequential_wrapper2``.  The import
is wrapped in ``try``/``except ImportError``, but the fallback then calls
placeholders at import time (``reverse2(fuse_linear_bn)``), so
``import mmrazor.models`` raises.  Building mmrazor's backend configs at
import time then reaches ``torch.ao.quantization.backend_config.utils`` as an
attribute of its package, which torch 2.13 only sets once that submodule has
been imported: :func:`apply` imports it.  Last, mmrazor's configs call
three private setters of ``BackendPatternConfig`` that torch has since
removed (``_set_overwrite_output_fake_quantize``,
``_set_overwrite_output_observer``, ``_set_input_output_observed``);
:func:`apply` adds them as setters that change nothing and return the
config, which only affects quantization patterns the benchmark never uses.
:func:`apply` publishes the old names as
aliases of the renamed functions, in torch's module object in this process
only (no installed file is touched), before mmrazor is imported.  Only the
distillation part of mmrazor is used by the benchmark; the quantization
code merely has to import.
"""
import importlib

ALIASES = {
    'reverse2': '_reverse2',
    'reverse3': '_reverse3',
    'reverse_sequential_wrapper2': '_sequential_wrapper2',
}

REMOVED_SETTERS = ('_set_overwrite_output_fake_quantize',
                   '_set_overwrite_output_observer',
                   '_set_input_output_observed')


def apply() -> None:
    """Alias the renamed torch functions; a no-op where torch has them."""
    importlib.import_module('torch.ao.quantization.backend_config.utils')
    mappings = importlib.import_module(
        'torch.ao.quantization.fuser_method_mappings')
    for old, new in ALIASES.items():
        if not hasattr(mappings, old) and hasattr(mappings, new):
            setattr(mappings, old, getattr(mappings, new))
    from torch.ao.quantization.backend_config import BackendPatternConfig
    for name in REMOVED_SETTERS:
        if not hasattr(BackendPatternConfig, name):
            setattr(BackendPatternConfig, name, _unused_setter)


def _unused_setter(self, *args, **kwargs):
    """Stand-in for a removed private quantization setter."""
    return self
