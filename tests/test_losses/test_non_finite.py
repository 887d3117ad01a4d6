"""TSA and ISD on zero-size and degenerate targets, in float16 where the
ops allow it: no NaN or inf is made on the way, not even one that a zero
weight would hide (inf x 0 = NaN under ``--amp``)."""
import math

import pytest
import torch
from mmengine.structures import InstanceData
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

import dkd_mm  # noqa: F401  (compat shims before mmrotate)
from dkd_mm.losses.isd_loss import InstanceSelectionDistillLoss
from dkd_mm.losses.tsa_loss import TSALoss


def _non_finite(value) -> bool:
    return isinstance(value, torch.Tensor) and value.is_floating_point() \
        and value.numel() > 0 and not bool(torch.isfinite(value).all())


class BornNonFinite(TorchDispatchMode):
    """Records each op that makes a NaN, or an inf out of finite inputs.

    An inf put in on purpose (``torch.full_like(x, inf)``: a non-finite
    number among the arguments) or carried from an input is no finding; a
    NaN always is.
    """

    def __init__(self) -> None:
        super().__init__()
        self.found = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        inputs = tree_leaves((args, kwargs or {}))
        nan = any(
            isinstance(t, torch.Tensor) and t.is_floating_point()
            and bool(t.isnan().any()) for t in tree_leaves(out))
        born_inf = any(_non_finite(t) for t in tree_leaves(out)) and not any(
            _non_finite(x) or (isinstance(x, float) and not math.isfinite(x))
            for x in inputs)
        if nan or born_inf:
            self.found.append(str(func))
        return out


def test_the_recorder_finds_a_hidden_overflow():
    with BornNonFinite() as ops:
        x = torch.tensor([1.0, 2.0], dtype=torch.float16)
        (x / 1e-6 * torch.zeros_like(x)).sum()
        torch.full_like(x, float('inf')).neg()  # put in on purpose: fine
    # The inf is born in the division; the NaN of inf x 0 is found where it
    # is made and where it is carried; the inf put in on purpose is not.
    assert [op.split('.')[1] for op in ops.found] == ['div', 'mul', 'sum']


def _dense_batch(dtype: torch.dtype):
    """Eight priors of a dense head: two positives (a 40 x 10 box and a
    square), the rest negatives whose targets are all-zero boxes, as
    mmdet's target assignment leaves them, with zero weights."""
    target = torch.zeros(8, 5)
    target[0] = torch.tensor([50., 50., 40., 10., 0.3])
    target[3] = torch.tensor([20., 30., 16., 16., -0.2])
    pred = torch.tensor([[30., 20., 12., 9., 0.1]]).repeat(8, 1)
    pred[0] = torch.tensor([52., 49., 36., 11., 0.25])
    pred[3] = torch.tensor([21., 30., 15., 18., -0.1])
    weight = torch.zeros(8, 5)
    weight[[0, 3]] = 1.0
    return (pred.to(dtype).requires_grad_(True), target.to(dtype),
            weight.to(dtype))


@pytest.mark.parametrize('psi', [0.0, 1.0])
def test_tsa_float16_with_zero_size_negatives(psi):
    tsa = TSALoss(
        dict(type='mmdet.L1Loss'), delta_stds=(.1, .1, .2, .2, .1), psi=psi)
    pred32, target32, weight32 = _dense_batch(torch.float32)
    reference = tsa(pred32, target32, weight32, avg_factor=2.)
    reference.backward()
    pred, target, weight = _dense_batch(torch.float16)
    with BornNonFinite() as ops:
        loss = tsa(pred, target, weight, avg_factor=2.)
        loss.backward()
        none = tsa(pred, target, weight, reduction_override='none')
    assert ops.found == []
    torch.testing.assert_close(loss.float(), reference, rtol=2e-3, atol=2e-3)
    assert torch.isfinite(pred.grad).all()
    torch.testing.assert_close(
        pred.grad.float(), pred32.grad, rtol=1e-2, atol=1e-3)
    assert (none[weight == 0] == 0).all() and (none[[0, 3]] > 0).any()


def test_tsa_reads_only_the_weighted_boxes():
    # NaN targets and predictions at zero weight change nothing: TSA never
    # computes them.
    tsa = TSALoss(dict(type='mmdet.L1Loss'), delta_stds=(1., ) * 5, psi=1.)
    pred, target, weight = _dense_batch(torch.float32)
    clean = tsa(pred, target, weight)  # mean over all 40 elements
    target[weight[:, 0] == 0] = float('nan')
    dirty = tsa(pred.detach().masked_fill(weight == 0, float('nan')), target,
                weight)
    torch.testing.assert_close(dirty, clean.detach())
    half = tsa(pred[[0, 3]], target[[0, 3]], weight[[0, 3]])
    torch.testing.assert_close(clean.detach(), half.detach() * 2 / 8)


def _isd_inputs(dtype: torch.dtype):
    """One 64 x 64 image: a real GT box, a zero-size one and a one-pixel
    line; the teacher finds all three, the student none."""
    gt = torch.tensor([[30., 30., 20., 12., 0.], [10., 50., 0., 0., 0.],
                       [50., 12., 16., 0., 0.5]])
    teacher = InstanceData(
        bboxes=gt.clone(),
        scores=torch.tensor([0.9, 0.8, 0.7]),
        labels=torch.tensor([0, 1, 0]))
    student = InstanceData(
        bboxes=torch.zeros(0, 5),
        scores=torch.zeros(0),
        labels=torch.zeros(0, dtype=torch.long))
    gen = torch.Generator().manual_seed(0)
    feats_t = [torch.randn(1, 4, 8, 8, generator=gen).to(dtype)]
    feats_s = [
        torch.randn(1, 4, 8, 8, generator=gen).to(dtype).requires_grad_(True)
    ]
    return feats_s, feats_t, [teacher], [student
                                         ], [gt], [torch.tensor([0, 1, 0])]


def test_isd_with_degenerate_targets_makes_no_nan():
    # RoIAlignRotated has no float16 kernel on CPU: the float32 path, with
    # every intermediate checked.
    feats_s, feats_t, teacher, student, gt, labels = _isd_inputs(torch.float32)
    isd = InstanceSelectionDistillLoss()
    with BornNonFinite() as ops:
        out = isd(feats_s, feats_t, teacher, student, gt, labels, (64, 64),
                  1.0)
        (out['feat'] + out['relation']).backward()
    assert ops.found == []
    assert torch.isfinite(out['feat']) and torch.isfinite(out['relation'])
    assert out['log_selected'] >= 1
    assert torch.isfinite(feats_s[0].grad).all()
