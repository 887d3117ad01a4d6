"""The peak memory of a stretch of code, for bench/cost.py's tables.

What is measured, exactly:

* CPU: the process's resident set (``/proc/self/status``).  ``start``
  records the resident set now (the baseline: libraries, the built models'
  weights, the data loader) and resets the kernel's high-water mark
  (``VmHWM``) to it by writing ``5`` to ``/proc/self/clear_refs`` (Linux
  4.0 and later).  ``peak_mb`` is the high-water mark since then;
  ``growth_mb`` the peak minus the baseline: what the measured code added
  at its peak (activations, gradients, allocator caches, data buffers).
  Memory that the allocator keeps after it was freed is resident, so a
  peak reached before ``start`` in the same process can hide growth: each
  measurement runs in a fresh process.
* GPU: torch's caching allocator, ``torch.cuda.memory_allocated`` at
  ``start`` (baseline), ``torch.cuda.max_memory_allocated`` after
  ``torch.cuda.reset_peak_memory_stats`` (peak): tensors only.
"""
import os
from typing import Optional

import torch

_STATUS = '/proc/self/status'
_CLEAR_REFS = '/proc/self/clear_refs'


def _status_mb(key: str) -> Optional[float]:
    """A ``kB`` field of ``/proc/self/status`` in MB (None off Linux)."""
    if not os.path.isfile(_STATUS):
        return None
    with open(_STATUS) as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1]) / 1024
    return None


class PeakMemory:
    """Peak memory from :meth:`start` on (see the module docstring).

    Args:
        device (str): 'cpu' (the resident set) or a CUDA device (torch's
            allocator). Defaults to 'cpu'.
    """

    def __init__(self, device: str = 'cpu') -> None:
        self.cuda = str(device).startswith('cuda')
        self.baseline_mb: Optional[float] = None
        self.reset = False  # whether the peak counts from start() only

    def start(self) -> None:
        """Take the baseline and reset the peak to it."""
        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.baseline_mb = torch.cuda.memory_allocated() / 2**20
            self.reset = True
            return
        self.baseline_mb = _status_mb('VmRSS')
        try:
            with open(_CLEAR_REFS, 'w') as f:
                f.write('5')
            self.reset = True
        except OSError:
            self.reset = False

    def peak_mb(self) -> Optional[float]:
        """The peak since :meth:`start` (None where it cannot be read or
        was not reset)."""
        if self.cuda:
            torch.cuda.synchronize()
            return torch.cuda.max_memory_allocated() / 2**20
        return _status_mb('VmHWM') if self.reset else None

    def growth_mb(self) -> Optional[float]:
        """The peak minus the baseline (None where either is missing)."""
        peak = self.peak_mb()
        if peak is None or self.baseline_mb is None:
            return None
        return peak - self.baseline_mb
