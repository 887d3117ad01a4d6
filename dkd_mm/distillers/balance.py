"""Each distillation term held at a set share of the detection loss.

A distillation loss's size depends on the detector, the data and the scale
of both networks' features: FGD at its authors' RetinaNet weights runs at
20-750x the detection loss of this project's AdamW teacher, GD at about 20x
in Oriented R-CNN and 2-5x in rotated RetinaNet.  Published methods answer
with weights per detector.  :class:`TermBalancer` measures instead, online,
how large each term ``T_k`` is against the student's detection loss ``D``
(the sum of its ``loss*`` outputs) and scales it to a set share ``rho_k``:

.. math::

    \\bar T_k \\leftarrow m \\bar T_k + (1 - m) T_k, \\quad
    \\bar D \\leftarrow m \\bar D + (1 - m) D, \\quad
    r_k = T_k / D, \\quad \\bar r_k = \\bar T_k / \\bar D,

    L_k = s_k T_k, \\qquad
    s_k = \\operatorname{sg}\\left[\\rho_k / \\max(\\bar r_k, r_k)\\right]

(``sg``: no gradient through the scale).  So ``L_k / D = rho_k r_k /
max(r_bar_k, r_k) <= rho_k`` every step: a term in a spike is cut to its
share, a steady one runs at its share, and both follow the detection loss
down as training goes.  The gradient a term sends is its own, only
rescaled: what it asks of the features is unchanged.  The averages start
at the first step's values (no warm-up bias), are averaged over the ranks
of a distributed run before they are used (every rank scales alike), and
are saved in checkpoints (``get_extra_state``), so that ``--resume``
continues with them.
"""
import re
from math import inf
from typing import Dict, Iterable, List, Mapping, Optional

import torch
from mmengine.dist import all_reduce
from torch import Tensor, nn


def balance_scales(term_avg: Tensor,
                   det_avg: Tensor,
                   terms: Tensor,
                   det: Tensor,
                   shares: Tensor,
                   eps: float = 1e-12) -> Tensor:
    """The scales ``s_k`` that put each term at its share (module docstring).

    Args:
        term_avg (Tensor): ``(K,)`` running averages of the terms.
        det_avg (Tensor): ``()`` running average of the detection loss.
        terms (Tensor): ``(K,)`` this step's terms.
        det (Tensor): ``()`` this step's detection loss.
        shares (Tensor): ``(K,)`` the target shares ``rho_k > 0``.
        eps (float): Ratios at or below it scale the term by 0 (a term
            that is zero on average and now has nothing to balance).
            Defaults to 1e-12.

    Returns:
        Tensor: ``(K,)`` scales ``>= 0``.
    """
    ratio = torch.maximum(term_avg / det_avg.clamp(min=eps),
                          terms / det.clamp(min=eps))
    return torch.where(ratio > eps, shares / ratio.clamp(min=eps),
                       torch.zeros_like(ratio))


class TermBalancer(nn.Module):
    """Scale each distillation term to a share of the detection loss.

    Args:
        shares (dict[str, float], optional): Target share ``rho`` per term
            key as logged (e.g. ``loss_global_distill_fg``); a key may also
            be a loss's config name (``loss_global_distill``), which then
            applies to each of its terms.  Defaults to None.
        default_share (float): The share of a term not named in
            ``shares``. Defaults to 0.25.
        momentum (float): ``m`` of the running averages, in ``[0, 1)``.
            Defaults to 0.98 (about 50 steps).
    """

    def __init__(self,
                 shares: Optional[Mapping[str, float]] = None,
                 default_share: float = 0.25,
                 momentum: float = 0.98) -> None:
        super().__init__()
        named = dict(shares or {})
        for key, share in [*named.items(), ('default_share', default_share)]:
            if not isinstance(share, (int, float)) or not 0 < share < inf:
                raise ValueError(f'balance: {key} must be a finite number '
                                 f'> 0, got {share!r}')
        if not 0 <= momentum < 1:
            raise ValueError(
                f'balance: momentum must be in [0, 1), got {momentum!r}')
        self.shares = {k: float(v) for k, v in named.items()}
        self.default_share = float(default_share)
        self.momentum = float(momentum)
        self._keys: List[str] = []
        # (K + 1,): the detection loss's average, then each term's.
        self._avg: Optional[Tensor] = None
        self._steps = 0

    def share_of(self, key: str) -> float:
        """``rho`` of a term key: its own, its loss's, or the default."""
        if key in self.shares:
            return self.shares[key]
        loss = max(
            (name for name in self.shares if key.startswith(name + '_')),
            key=len,
            default=None)
        return self.shares[loss] if loss is not None else self.default_share

    def forward(self, terms: Mapping[str, Tensor],
                detection: Tensor) -> Dict[str, Tensor]:
        """The terms times their scales ``s_k``; in training, the running
        averages are updated with this step's values first.

        Args:
            terms (dict[str, Tensor]): Scalar distillation terms by key.
            detection (Tensor): Scalar detection loss ``D`` of the student.

        Returns:
            dict[str, Tensor]: The scaled terms, same keys.
        """
        if not terms:
            return {}
        keys = sorted(terms)
        now = torch.stack([detection.detach().float()] +
                          [terms[k].detach().float() for k in keys])
        if self.training:
            all_reduce(now, op='mean')
            self._update(keys, now)
        known = self._avg is not None and self._keys == keys
        avg = self._avg if known else now
        shares = now.new_tensor([self.share_of(k) for k in keys])
        scales = balance_scales(avg[1:].to(now), avg[0].to(now), now[1:],
                                now[0], shares)
        return {k: terms[k] * scales[i] for i, k in enumerate(keys)}

    def _update(self, keys: List[str], now: Tensor) -> None:
        if self._avg is None or self._keys != keys:
            if self._avg is not None:
                raise KeyError(f'balance: the distillation terms changed '
                               f'from {self._keys} to {keys}; every step '
                               'must return the same terms')
            self._keys, self._avg = list(keys), now.clone()
        else:
            self._avg = self.momentum * self._avg.to(now) + (
                1 - self.momentum) * now
        self._steps += 1

    def get_extra_state(self) -> dict:
        return dict(
            keys=list(self._keys),
            avg=None if self._avg is None else self._avg.detach().cpu(),
            steps=self._steps)

    def set_extra_state(self, state: dict) -> None:
        self._keys = list(state['keys'])
        self._avg = None if state['avg'] is None else state['avg'].clone()
        self._steps = int(state['steps'])


def detection_loss(losses: Mapping[str, object]) -> Tensor:
    """``D``: the sum of a detector's ``loss*`` outputs, as mmengine's
    ``parse_losses`` adds them up (a list: the sum of its means)."""
    total = []
    for key, value in losses.items():
        if 'loss' not in key:
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        total.extend(v.mean() for v in values)
    if not total:
        raise KeyError('balance: the student returned no loss* output to '
                       f'balance against; it gave {sorted(losses)}')
    return torch.stack(total).sum()


def share_key(term: str) -> str:
    """The logged name of a term's share: ``loss_global_distill_fg`` ->
    ``share_global_distill_fg`` (no ``loss``, which mmengine would add to
    the loss)."""
    return 'share_' + re.sub('_+', '_', term.replace('loss', '')).strip('_')


def build_balancer(cfg: Mapping[str, object],
                   loss_names: Iterable[str]) -> TermBalancer:
    """The distiller's ``balance`` config as a :class:`TermBalancer`.

    Raises:
        TypeError: For an argument ``TermBalancer`` does not take.
        ValueError: For a share of a term no loss produces (a key is a
            loss's config name, alone or followed by ``_`` and one of its
            terms), or a share or momentum out of range.
    """
    names = list(loss_names)
    cfg = dict(cfg)
    for key in dict(cfg.get('shares') or {}):
        if not any(key == n or key.startswith(n + '_') for n in names):
            raise ValueError(f'balance.shares.{key}: no distillation loss '
                             f'produces it; the losses are {names}')
    try:
        return TermBalancer(**cfg)
    except TypeError as exc:
        raise TypeError(f'balance: {exc}; it takes shares, default_share '
                        'and momentum') from None
