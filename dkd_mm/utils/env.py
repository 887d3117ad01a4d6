"""Checks of the installed stack."""


def check_mmcv_ops() -> None:
    """Fail loudly when mmcv was installed without its compiled ops.

    A pure-Python mmcv (``mmcv-lite`` or a build without ``MMCV_WITH_OPS``)
    imports fine and breaks only at the first rotated op, deep in training.

    Raises:
        ImportError: naming what is missing and how to fix it.
    """
    try:
        import mmcv.ops as ops
        for name in ('box_iou_rotated', 'nms_rotated', 'RoIAlignRotated'):
            getattr(ops, name)
    except (ImportError, AttributeError) as exc:
        raise ImportError(
            'mmcv is installed without its compiled ops (mmcv._ext), which '
            'dkd_mm needs for rotated NMS, rotated IoU and RoIAlignRotated. '
            'Run `bash tools/setup_env.sh`, which builds mmcv 2.0.1 with '
            f'MMCV_WITH_OPS=1. Original error: {exc}') from exc
