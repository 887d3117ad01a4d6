"""Config checks run when a distiller is built, naming the faulty field."""
import inspect
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from torch import nn


def find_num_classes(cfg: Any) -> Optional[int]:
    """The detector's class count: the first ``num_classes`` in its heads.

    Args:
        cfg (dict): A detector config.

    Returns:
        int | None: ``num_classes`` of ``bbox_head`` or ``roi_head``.
    """
    for key in ('bbox_head', 'roi_head'):
        head = cfg.get(key)
        if head is None:
            continue
        if 'num_classes' in head:
            return head['num_classes']
        bbox_head = head.get('bbox_head')
        if isinstance(bbox_head, (list, tuple)):  # cascade heads
            bbox_head = bbox_head[-1]
        if isinstance(bbox_head, dict) and 'num_classes' in bbox_head:
            return bbox_head['num_classes']
    return None


def neck_levels(cfg: dict, role: str) -> Tuple[int, int]:
    """Output channels and number of levels of a detector's FPN neck.

    Raises:
        ValueError: If the config has no neck with ``out_channels`` and
            ``num_outs``.
    """
    neck = cfg.get('neck')
    if isinstance(neck, (list, tuple)):
        neck = neck[-1]
    if not isinstance(neck, dict) or 'out_channels' not in neck:
        raise ValueError(
            f'{role}.neck: a multi-scale neck with `out_channels` and '
            f'`num_outs` (e.g. mmdet.FPN) is needed for feature '
            f'distillation, got {neck!r}')
    return neck['out_channels'], neck.get('num_outs', 1)


def check_pair(student: dict, teacher: dict) -> None:
    """Teacher and student must predict the same classes on the same levels.

    Raises:
        ValueError: Naming the mismatching field and both values.
    """
    num_s, num_t = find_num_classes(student), find_num_classes(teacher)
    if num_s is not None and num_t is not None and num_s != num_t:
        raise ValueError(f'teacher and student have different class counts: '
                         f'student num_classes={num_s}, teacher '
                         f'num_classes={num_t}')
    levels_s = neck_levels(student, 'student')[1]
    levels_t = neck_levels(teacher, 'teacher')[1]
    if levels_s != levels_t:
        raise ValueError(f'teacher and student have different FPN level '
                         f'counts: student neck.num_outs={levels_s}, teacher '
                         f'neck.num_outs={levels_t}')
    pre_s, pre_t = (student.get('data_preprocessor')
                    or {}, teacher.get('data_preprocessor') or {})
    for key in ('mean', 'std', 'bgr_to_rgb'):
        if key in pre_s and key in pre_t and pre_s[key] != pre_t[key]:
            raise ValueError(
                f'the teacher sees the student\'s normalised images, so '
                f'data_preprocessor.{key} must agree: student {pre_s[key]}, '
                f'teacher {pre_t[key]}')


def loss_arguments(name: str, loss: nn.Module,
                   available: Sequence[str]) -> List[str]:
    """Argument names of ``loss.forward``, checked against what a step gives.

    Args:
        name (str): The loss's key in ``distill_losses``.
        loss (nn.Module): The built loss.
        available (Sequence[str]): The names a step provides,
            ``DistillContext.field_names()``.

    Returns:
        list[str]: The names to pass, in the order of ``forward``.

    Raises:
        ValueError: If the loss asks for something the distiller cannot
            provide, or its name would not be back-propagated by mmengine.
    """
    if 'loss' not in name:
        raise ValueError(f'distill_losses key {name!r} must contain "loss": '
                         'mmengine back-propagates only keys containing it')
    params = inspect.signature(loss.forward).parameters
    names = [
        p.name for p in params.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ValueError(
            f'distill_losses.{name} ({type(loss).__name__}) asks for '
            f'{unknown} in its forward, which the distiller does not '
            f'provide; the fields of DistillContext are {list(available)}')
    return names


def check_term_weights(weights: Optional[Mapping[str, float]],
                       losses: Mapping[str, nn.Module]) -> Dict[str, float]:
    """``term_weights`` as a dict, each key a term of one of ``losses``.

    A term's key is its loss's config name, alone or followed by ``_`` and
    the loss's own key (:func:`~dkd_mm.distillers.context.
    split_loss_output`); which keys a loss returns is known only at its
    first step, where unknown keys fail too.

    Raises:
        ValueError: For a key of no loss, or a weight that is not a
            finite number >= 0.
    """
    weights = dict(weights or {})
    for key, value in weights.items():
        if not any(key == name or key.startswith(name + '_')
                   for name in losses):
            raise ValueError(f'term_weights.{key}: no distillation loss '
                             f'produces it; the losses are {list(losses)}')
        if not isinstance(value,
                          (int, float)) or not 0 <= value < float('inf'):
            raise ValueError(f'term_weights.{key} must be a finite number '
                             f'>= 0, got {value!r}')
    return {k: float(v) for k, v in weights.items()}
