"""Device parity of a computation: the harness of bench/gpu_check.py's
parity checks (the cases are in bench/gpu_parity_cases.py).

A case draws its inputs once, on the CPU, from a seeded generator; it runs
on the CPU and on the device under test (copies of the same tensors;
modules deep-copied, so with the same weights); every output is compared,
and the gradient of every input that requires one and of every module
parameter. The gradients are those of ``sum_k <out_k, r_k>`` with fixed
random ``r_k`` drawn on the CPU (a plain sum has no gradient through a
softmax, which sums to a constant).

Tolerances (float32, TF32 off during the comparison): a float tensor
passes where ``|out - ref| <= atol * scale + rtol * |ref|`` element-wise,
``scale`` the largest finite ``|ref|`` of that tensor (1 if it is all 0),
so a gradient of size 1e-6 is held to its own scale; NaN and inf must sit at
the same places; bool and integer tensors must be equal. ``EXACT`` is rtol
1e-4, atol 1e-5. ``RELAXED`` (rtol 1e-3, atol 1e-4) is for CUDA kernels
that sum in an unspecified order (atomicAdd in the backward of
RoIAlign(Rotated) and of bilinear upsampling) or compute rotated IoU with
code of their own (mmcv's ``box_iou_rotated``).
"""
import contextlib
import copy
import dataclasses
import math
from typing import Any, Callable, Dict, Iterator, List, NamedTuple, Tuple

import torch
from mmengine.structures import BaseDataElement
from torch import Tensor, nn


class Tol(NamedTuple):
    rtol: float
    atol: float


EXACT = Tol(1e-4, 1e-5)
RELAXED = Tol(1e-3, 1e-4)


@dataclasses.dataclass
class Case:
    """One comparison.

    Args:
        name (str): Row name of the table.
        inputs (Callable): ``inputs(gen)`` -> keyword arguments of ``run``,
            on the CPU.
        run (Callable): ``run(**inputs)`` -> outputs (tensor, dict, list,
            dataclass or number, nested).
        tol (Tol): Tolerance of the outputs. Defaults to EXACT.
        grad_tol (Tol): Tolerance of the gradients. Defaults to EXACT.
        needs_ops (bool): Whether mmcv's compiled ops are used.
            Defaults to False.
    """
    name: str
    inputs: Callable[[torch.Generator], Dict[str, Any]]
    run: Callable[..., Any]
    tol: Tol = EXACT
    grad_tol: Tol = EXACT
    needs_ops: bool = False


def to_device(obj: Any, device: str) -> Any:
    """A copy of ``obj`` on ``device``: tensors keep ``requires_grad`` as
    fresh leaves, modules are deep-copied."""
    if isinstance(obj, Tensor):
        return obj.detach().to(device).requires_grad_(obj.requires_grad)
    if isinstance(obj, nn.Module):
        return copy.deepcopy(obj).to(device)
    if isinstance(obj, BaseDataElement):
        return obj.to(device)
    if isinstance(obj, dict):
        return {k: to_device(v, device) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_device(v, device) for v in obj)
    return obj


def flatten(obj: Any, prefix: str = 'out') -> Dict[str, Tensor]:
    """Every tensor (and number) in nested outputs, by path."""
    if isinstance(obj, Tensor):
        return {prefix: obj}
    if isinstance(obj, (bool, int, float)):
        return {prefix: torch.tensor(obj)}
    if dataclasses.is_dataclass(obj):
        obj = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if isinstance(obj, nn.Module):
        return {
            f'{prefix}.{k}': v
            for k, v in obj.named_parameters() if v.requires_grad
        }
    if isinstance(obj, dict):
        items = obj.items()
    elif isinstance(obj, (list, tuple)):
        items = enumerate(obj)
    else:
        return {}
    out = {}
    for key, value in items:
        out.update(flatten(value, f'{prefix}.{key}'))
    return out


def leaves(inputs: Dict[str, Any]) -> Dict[str, Tensor]:
    """Input tensors and module parameters that require a gradient."""
    return {
        k: v
        for k, v in flatten(inputs, 'in').items()
        if v.requires_grad and v.is_leaf
    }


def evaluate(case: Case, inputs: Dict[str, Any]) -> Tuple[dict, dict]:
    """Outputs and gradients of ``case`` on ``inputs`` (already placed)."""
    outputs = flatten(case.run(**inputs))
    gen = torch.Generator().manual_seed(1)
    objective = 0
    for key in sorted(outputs):
        value = outputs[key]
        if value.requires_grad and value.is_floating_point():
            weight = torch.randn(value.shape, generator=gen)
            objective = objective + (value * weight.to(value)).sum()
    grad_leaves = leaves(inputs)
    grads = {}
    if isinstance(objective, Tensor) and grad_leaves:
        found = torch.autograd.grad(
            objective, list(grad_leaves.values()), allow_unused=True)
        grads = {
            k: torch.zeros_like(v) if g is None else g
            for (k, v), g in zip(grad_leaves.items(), found)
        }
    return ({
        k: v.detach().cpu()
        for k, v in outputs.items()
    }, {
        k: v.detach().cpu()
        for k, v in grads.items()
    })


def mismatch(ref: Tensor, out: Tensor, tol: Tol) -> Tuple[bool, float]:
    """Whether ``out`` differs from ``ref``, and its largest error relative
    to ``ref``'s scale (see the module docstring)."""
    if ref.shape != out.shape or ref.dtype != out.dtype:
        return True, math.inf
    if not ref.is_floating_point():
        return not torch.equal(ref, out), float(not torch.equal(ref, out))
    for special in (torch.isnan, torch.isposinf, torch.isneginf):
        if not torch.equal(special(ref), special(out)):
            return True, math.inf
    finite = torch.isfinite(ref)
    if not finite.any():
        return False, 0.0
    ref, out = ref[finite].double(), out[finite].double()
    scale = ref.abs().max().item() or 1.0
    error = (out - ref).abs()
    bad = error > tol.atol * scale + tol.rtol * ref.abs()
    return bool(bad.any()), error.max().item() / scale


def compare(ref: Dict[str, Tensor], out: Dict[str, Tensor],
            tol: Tol) -> Tuple[List[str], float]:
    """Names of the tensors that differ, and the largest relative error."""
    failed, worst = [], 0.0
    for key in sorted(set(ref) | set(out)):
        if key not in ref or key not in out:
            failed.append(f'{key} (missing on one device)')
            continue
        bad, error = mismatch(ref[key], out[key], tol)
        worst = max(worst, error)
        if bad:
            failed.append(f'{key} (error {error:.1e})')
    return failed, worst


@contextlib.contextmanager
def full_float32() -> Iterator[None]:
    """TF32 off for matmuls and convolutions (on by default for cuDNN on
    Ampere and later), restored after."""
    matmul = torch.backends.cuda.matmul.allow_tf32
    cudnn = torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = matmul
        torch.backends.cudnn.allow_tf32 = cudnn


def run_case(case: Case, device: str) -> Tuple[bool, str]:
    """Compare ``case`` on the CPU and on ``device``.

    Returns:
        tuple[bool, str]: Whether it passed, and a one-line detail.
    """
    inputs = case.inputs(torch.Generator().manual_seed(0))
    with full_float32():
        ref_out, ref_grad = evaluate(case, to_device(inputs, 'cpu'))
        out, grad = evaluate(case, to_device(inputs, device))
    bad_out, err_out = compare(ref_out, out, case.tol)
    bad_grad, err_grad = compare(ref_grad, grad, case.grad_tol)
    detail = (f'{len(ref_out)} outputs (max rel. error {err_out:.1e}, '
              f'rtol {case.tol.rtol:g}, atol {case.tol.atol:g}), '
              f'{len(ref_grad)} gradients (max {err_grad:.1e}, rtol '
              f'{case.grad_tol.rtol:g}, atol {case.grad_tol.atol:g})')
    bad = bad_out + [f'grad {k}' for k in bad_grad]
    if bad:
        more = f' and {len(bad) - 4} more' if len(bad) > 4 else ''
        detail = f'differ: {", ".join(bad[:4])}{more}; {detail}'
    return not bad, detail
