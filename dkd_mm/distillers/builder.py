"""Building the teacher and student of a distiller from configs."""
import copy
import importlib.util
import os.path as osp
from typing import List, Optional, Tuple, Union

from mmengine.config import Config, ConfigDict
from mmengine.hub import get_config
from mmengine.registry import DefaultScope
from torch import nn

from dkd_mm.registry import MODELS
from dkd_mm.utils.checkpoint import checkpoint_file, load_checkpoint_safely

ModelSpec = Union[str, dict, ConfigDict]
Detector = Tuple[str, ConfigDict, Optional[str]]


def load_config(path: str) -> Config:
    """Load a config file, also from ``mmrotate::``/``mmdet::`` paths.

    A package path is resolved by mmengine's ``mmengine.hub.get_config``
    (the package's ``.mim/configs``, through its model index where the
    config is listed).  Its ``get_model`` is not used: it builds in
    mmengine's root registry after the package's ``register_all_modules``
    and takes package paths only, where a distiller's detectors may be local
    files, built in dkd_mm's registry under their file's scope
    (:func:`build_model`).

    Args:
        path (str): A file path, or ``<package>::<path under configs/>``.

    Returns:
        Config: The parsed config.

    Raises:
        FileNotFoundError: If the file, or a package path's package, does
            not exist.
    """
    if '::' not in path:
        if not osp.isfile(path):
            raise FileNotFoundError(f'config file not found: {path!r}')
        return Config.fromfile(path)
    package = path.split('::', 1)[0]
    # get_config pip-installs a package that is missing: say so instead.
    if importlib.util.find_spec(package) is None:
        raise FileNotFoundError(
            f'config {path!r}: package {package!r} is not installed')
    try:
        return get_config(path)
    except FileNotFoundError:
        raise FileNotFoundError(f'config file not found: {path!r}') from None


def model_config(spec: ModelSpec,
                 role: str) -> Tuple[ConfigDict, Optional[str]]:
    """The model config of ``spec`` and the default scope to build it in.

    Args:
        spec (str | dict): A model config, or a config file whose ``model``
            is used (built under that file's ``default_scope``).
        role (str): 'teacher' or 'student', for error messages.

    Returns:
        tuple[ConfigDict, str | None]: The model config and its scope.
    """
    if isinstance(spec, str):
        cfg = load_config(spec)
        if 'model' not in cfg:
            raise KeyError(f'{role} config {spec!r} has no `model`')
        return copy.deepcopy(cfg.model), cfg.get('default_scope')
    if not isinstance(spec, (dict, ConfigDict)) or 'type' not in spec:
        raise TypeError(f'`{role}` must be a config file path or a model '
                        f'config dict with a `type`, got {spec!r}')
    # A ConfigDict, since heads read e.g. ``test_cfg.min_bbox_size``.
    return ConfigDict(copy.deepcopy(spec)), None


def detector_configs(cfg: Config) -> List[Detector]:
    """``(role, model config, scope)`` of each detector of a config: the
    model itself, or a distiller's student and teacher."""
    scope = cfg.get('default_scope')
    model = cfg.model
    if not str(model.get('type', '')).endswith('DKDDistiller'):
        return [('model', model, scope)]
    teacher, teacher_scope = model_config(model.teacher, 'teacher')
    student, student_scope = model_config(model.student, 'student')
    if model.get('data_preprocessor') is not None:  # as the distiller does
        student['data_preprocessor'] = copy.deepcopy(model.data_preprocessor)
    return [('student', student, student_scope or scope),
            ('teacher', teacher, teacher_scope or scope)]


def build_model(cfg: dict, scope: Optional[str]) -> nn.Module:
    """Build a detector, in ``scope`` when given, else in the current one."""
    if scope is None:
        return MODELS.build(cfg)
    with DefaultScope.overwrite_default_scope(scope):
        return MODELS.build(cfg)


def load_teacher_weights(teacher: nn.Module, ckpt_path: str) -> str:
    """Load a teacher checkpoint strictly, as untrusted input
    (:func:`load_detector_weights`).

    Returns:
        str: The local file the weights came from (``ckpt_path``, or the
        cached download of a URL).
    """
    load_detector_weights(teacher, ckpt_path, 'teacher')
    return checkpoint_file(ckpt_path)


def load_detector_weights(detector: nn.Module,
                          ckpt_path: str,
                          role: str = 'detector') -> dict:
    """Load a detector checkpoint strictly, as untrusted input.

    Accepts a detector checkpoint (``state_dict`` keys of the detector, as
    in mmrotate's and mmdet's model zoos, with or without ``meta``) and a
    distiller checkpoint whose ``student.`` weights are the detector's.

    Args:
        detector (nn.Module): The detector.
        ckpt_path (str): A local file, or an http(s) URL (e.g. a model zoo
            link) that is downloaded once into torch.hub's cache and then
            loaded as a local file (:func:`load_checkpoint_safely`).
        role (str): What the detector is, for error messages ('teacher'
            names the config field ``teacher_ckpt``). Defaults to
            'detector'.

    Returns:
        dict: The checkpoint's ``meta`` (empty if it has none).

    Raises:
        FileNotFoundError: If the file does not exist.
        CheckpointDownloadError: If a URL cannot be downloaded.
        UnsafeCheckpointError: If unpickling it would run code.
        ValueError: If its weights do not match the detector's config.
    """
    ckpt = load_checkpoint_safely(ckpt_path)
    state_dict = ckpt.get('state_dict', ckpt)
    if any(k.startswith('student.') for k in state_dict):
        state_dict = {
            k[len('student.'):]: v
            for k, v in state_dict.items() if k.startswith('student.')
        }
    state_dict = {
        k[len('module.'):] if k.startswith('module.') else k: v
        for k, v in state_dict.items()
    }
    name = 'teacher_ckpt' if role == 'teacher' else f'{role} checkpoint'
    try:
        result = detector.load_state_dict(state_dict, strict=False)
    except RuntimeError as exc:  # shape mismatches
        raise ValueError(f'{name} {ckpt_path!r} does not match the {role} '
                         f'config: {exc}') from None
    if result.missing_keys or result.unexpected_keys:
        raise ValueError(
            f'{name} {ckpt_path!r} does not match the {role} config: '
            f'missing keys {result.missing_keys[:8]}, unexpected keys '
            f'{result.unexpected_keys[:8]}')
    meta = ckpt.get('meta') if 'state_dict' in ckpt else None
    return dict(meta or {})
