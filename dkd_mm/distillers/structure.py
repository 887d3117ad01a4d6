"""A built detector's structure: its classes and its feature levels.

Read from the modules, not from config keys: ``num_outs`` exists on
``FPN`` and not on ``CSPNeXtPAFPN`` or ``YOLOXPAFPN``, and a cascade's
``bbox_head`` is a list.
"""
import math
from typing import List, Optional

import torch
from torch import Tensor, nn

from .recorder import OutputRecorder

# The smallest side of the dry forward's image, before rounding up to a
# multiple of the detector's largest stride (at least two cells there).
DRY_RUN_MIN_SIZE = 128


def find_num_classes(detector: nn.Module) -> Optional[int]:
    """The class count of a detector's final head.

    A dense head's (RetinaNet, FCOS, RTMDet, DETR...), else the RoI head's
    bbox head, the last stage's for a cascade (a list of bbox heads).

    Args:
        detector (nn.Module): A built detector.

    Returns:
        int | None: ``num_classes``, or None if no head has one.
    """
    for name in ('bbox_head', 'roi_head'):
        head = getattr(detector, name, None)
        if head is None:
            continue
        head = getattr(head, 'bbox_head', head)  # an RoI head's bbox head
        if isinstance(head, (nn.ModuleList, list, tuple)):  # cascade
            head = head[-1]
        num_classes = getattr(head, 'num_classes', None)
        if isinstance(num_classes, int):
            return num_classes
    return None


def largest_stride(detector: nn.Module) -> int:
    """The least common multiple of the strides a detector declares.

    Its data preprocessor's ``pad_size_divisor`` and the strides of its
    heads' prior generators and RoI extractors; 32 if it declares none.
    """
    strides = [getattr(detector.data_preprocessor, 'pad_size_divisor', 1)]
    for module in detector.modules():
        generator = getattr(module, 'prior_generator', None)
        strides += list(getattr(generator, 'strides', []))
        strides += list(getattr(module, 'featmap_strides', []))
    flat = [
        s for stride in strides
        for s in (stride if isinstance(stride, (tuple, list)) else (stride, ))
    ]
    step = math.lcm(*(max(1, int(s)) for s in flat))
    return 32 if step == 1 else step


def feature_channels(detector: nn.Module,
                     role: str,
                     feat_module: Optional[str] = None) -> List[int]:
    """Channels of each feature level the detector gives, by a dry forward.

    ``extract_feat`` runs on one zero image (in eval mode, without
    gradients; each module's mode is restored), whose side is a multiple of
    the detector's :func:`largest_stride`.  No running statistic changes,
    and nothing is drawn from the random generators.

    Args:
        detector (nn.Module): A built mmdet/mmrotate detector.
        role (str): 'teacher' or 'student', for error messages.
        feat_module (str, optional): The module whose output are the
            levels, recorded during ``extract_feat``; None takes what
            ``extract_feat`` returns. Defaults to None.

    Returns:
        list[int]: ``C_l`` of each level ``(N, C_l, H_l, W_l)``.

    Raises:
        ValueError: If the detector has no neck, or the levels are not
            feature maps.
    """
    name = type(detector).__name__
    has_neck = getattr(detector, 'neck', None) is not None
    if not has_neck and feat_module in (None, 'neck'):
        raise ValueError(
            f'{role} ({name}) has no `neck`: feature distillation compares '
            'the multi-scale levels of a neck one by one. Give the '
            f'{role} config one, e.g. neck=dict(type=\'mmdet.FPN\', '
            'in_channels=<its backbone\'s out channels>, out_channels=256, '
            'num_outs=5), with its head\'s in_channels to match.')
    size = largest_stride(detector)
    size *= max(2, math.ceil(DRY_RUN_MIN_SIZE / size))
    mean = getattr(detector.data_preprocessor, 'mean', None)
    channels = mean.numel() if isinstance(mean, Tensor) else 3
    param = next(detector.parameters(), None)
    inputs = torch.zeros(
        1, channels, size, size, device=getattr(param, 'device', None))
    modes = {module: module.training for module in detector.modules()}
    recorder = OutputRecorder(detector, [feat_module] if feat_module else [])
    detector.eval()
    try:
        with torch.no_grad(), recorder:
            feats = detector.extract_feat(inputs)
    except Exception as exc:
        raise RuntimeError(
            f'{role} ({name}): reading its feature levels by a dry forward '
            f'of extract_feat on a zero image {tuple(inputs.shape)} '
            f'failed: {exc!r}') from exc
    finally:
        for module, mode in modes.items():
            module.training = mode
    if feat_module:
        if feat_module not in recorder.outputs:
            raise ValueError(f'{role} ({name}): its {feat_module!r} did not '
                             'run in extract_feat, so it gives no features')
        feats = recorder.outputs[feat_module]
    if isinstance(feats, Tensor):
        feats = (feats, )
    where = feat_module or 'extract_feat'
    if not isinstance(feats, (tuple, list)) or not feats or not all(
            isinstance(f, Tensor) and f.dim() == 4 for f in feats):
        raise ValueError(
            f'{role} ({name}): {where} must give a tuple of (N, C, H, W) '
            f'feature levels to distil, got {_describe(feats)}')
    return [f.shape[1] for f in feats]


def _describe(value) -> str:
    if isinstance(value, Tensor):
        return f'a tensor of shape {tuple(value.shape)}'
    if isinstance(value, (tuple, list)):
        return f'{type(value).__name__} of ' + ', '.join(
            _describe(v) for v in value)
    return type(value).__name__
