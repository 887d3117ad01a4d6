"""Checks run when a distiller is built, naming the faulty field."""
import inspect
from typing import Dict, List, Mapping, Optional, Sequence

from torch import Tensor, nn

from .structure import find_num_classes


def check_pair(student: nn.Module, teacher: nn.Module) -> None:
    """Teacher and student must predict the same classes from the same
    normalised images.

    Args:
        student (nn.Module): The built student detector.
        teacher (nn.Module): The built teacher detector.

    Raises:
        ValueError: Naming the mismatching field and both values.
    """
    num_s, num_t = find_num_classes(student), find_num_classes(teacher)
    if num_s is not None and num_t is not None and num_s != num_t:
        raise ValueError(f'teacher and student have different class counts: '
                         f'student num_classes={num_s}, teacher '
                         f'num_classes={num_t}')
    pre_s, pre_t = _normalisation(student), _normalisation(teacher)
    for key in pre_s.keys() & pre_t.keys():
        if pre_s[key] != pre_t[key]:
            raise ValueError(
                f'the teacher sees the student\'s normalised images, so '
                f'data_preprocessor.{key} must agree: student {pre_s[key]}, '
                f'teacher {pre_t[key]}')


def _normalisation(detector: nn.Module) -> dict:
    """``mean``, ``std`` and ``bgr_to_rgb`` of a detector's preprocessor,
    those it has."""
    preprocessor = detector.data_preprocessor
    values = {}
    for key in ('mean', 'std'):
        value = getattr(preprocessor, key, None)
        if isinstance(value, Tensor):
            values[key] = [round(v, 6) for v in value.flatten().tolist()]
    if hasattr(preprocessor, '_channel_conversion'):
        values['bgr_to_rgb'] = preprocessor._channel_conversion
    return values


def check_levels(student_channels: Sequence[int],
                 teacher_channels: Sequence[int],
                 student_feat_module: str = 'neck') -> None:
    """Teacher and student must give as many feature levels.

    Args:
        student_channels (Sequence[int]): Channels of each student level
            (:func:`~dkd_mm.distillers.structure.feature_channels`).
        teacher_channels (Sequence[int]): The teacher's, likewise.
        student_feat_module (str): Where the student's levels come from,
            for the message. Defaults to 'neck'.

    Raises:
        ValueError: Naming both level counts and channels.
    """
    if len(student_channels) != len(teacher_channels):
        raise ValueError(
            f'teacher and student have different feature level counts: the '
            f'student\'s {student_feat_module} gives '
            f'{len(student_channels)} levels (channels '
            f'{list(student_channels)}), the teacher\'s neck '
            f'{len(teacher_channels)} (channels {list(teacher_channels)}); '
            'the losses compare them level by level, so give both necks '
            'the same levels (e.g. FPN num_outs, the strides of the '
            'heads)')


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


# What a loss asks for when it needs a detector's post-NMS instances.
PREDICTION_FIELDS = {'teacher_preds': 'teacher', 'student_preds': 'student'}


def check_predictable(loss_args: Mapping[str, Sequence[str]],
                      detectors: Mapping[str, nn.Module]) -> None:
    """Detectors whose instances a loss asks for must predict them from
    their neck features: a dense ``bbox_head`` or an RPN + RoI head.

    A DETR-family detector decodes its instances from a transformer run on
    the neck features, which the distiller does not repeat: ISD cannot take
    instances from it, GD can still distil its features.

    Args:
        loss_args (Mapping[str, Sequence[str]]): Loss name -> the context
            fields its ``forward`` asks for (:func:`loss_arguments`).
        detectors (Mapping[str, nn.Module]): ``'teacher'`` and
            ``'student'`` -> the built detector.

    Raises:
        ValueError: Naming the loss, the detector and what to do.
    """
    from mmdet.models.detectors import DetectionTransformer
    for name, args in loss_args.items():
        for field in args:
            role = PREDICTION_FIELDS.get(field)
            if role is None:
                continue
            detector = detectors[role]
            if isinstance(detector, DetectionTransformer):
                raise ValueError(
                    f'distill_losses.{name} asks for the {role}\'s instances '
                    f'({field}), which the distiller decodes from the neck '
                    'features with a dense bbox_head or an RPN + RoI head; '
                    f'the {role}, {type(detector).__name__}, decodes them '
                    'with a transformer. Distil its features without '
                    f'{name} (e.g. GD alone: '
                    'distill_losses=dict(loss_global_distill=...)).')
