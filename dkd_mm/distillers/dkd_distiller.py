"""DKDDistiller: a frozen teacher detector teaches a student detector.

The training step (``loss``) is assembled here and only here:

1. the teacher's neck features, under ``no_grad`` and in eval mode;
2. the student's own upstream ``loss(...)``, once; its neck output is caught
   by a forward hook during that call, so its backbone runs once per step;
3. 1x1 adapters, one per level, map student neck channels to the
   teacher's (levels and channels read from the built necks, see
   :mod:`dkd_mm.distillers.structure`);
4. each distillation loss receives, by argument name, the fields of the
   step's :class:`~dkd_mm.distillers.context.DistillContext` it asks for,
   and returns ``loss_*`` terms and values to log (the contract:
   :mod:`dkd_mm.distillers.context`);
5. student losses + distillation losses, one dict.

:meth:`DKDDistiller.distill_context` gives the same context for a batch
without training, so tools show what the losses see.

``predict`` and ``_forward`` are the student's, so mmdet's and mmrotate's
evaluators work unchanged.  Checkpoints hold the student and the adapters,
not the teacher, which is reloaded from ``teacher_ckpt`` when built.
"""
import logging
from contextlib import nullcontext
from functools import lru_cache, partial
from typing import Dict, List, Optional, Union

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModel
from torch import Tensor, nn

from dkd_mm.functional import box_tensor
from dkd_mm.registry import MODELS
from dkd_mm.utils.train_status import current_train_status
from .balance import build_balancer, detection_loss, share_key
from .builder import ModelSpec, build_model, load_teacher_weights, model_config
from .checks import (check_levels, check_pair, check_predictable,
                     check_term_weights, loss_arguments)
from .context import (DISTILL_PRED_CFG, DistillContext, is_dense,
                      predict_from_feats, split_loss_output)
from .recorder import OutputRecorder
from .samples import SampleRecorder, loss_pass_instances, sample_kind
from .structure import feature_channels


@MODELS.register_module()
class DKDDistiller(BaseModel):
    """Distil a frozen teacher detector into a student detector.

    Args:
        student (str | dict): The student detector: a model config, or a
            config file whose ``model`` is used.
        teacher (str | dict): The teacher detector, likewise; file paths may
            be ``mmrotate::``/``mmdet::`` package paths.
        teacher_ckpt (str, optional): The teacher's weights, loaded when the
            distiller is built with ``weights_only=True``: a local file or
            an http(s) URL (a model zoo link), downloaded once into
            torch.hub's cache (``$TORCH_HOME/hub/checkpoints``).  Once
            built, ``self.teacher_ckpt`` is the local file (the cached one
            for a URL).  None keeps a randomly initialised teacher (tests,
            debugging) and warns.
        distill_losses (dict): Loss name (must contain ``'loss'``) -> loss
            config.  Each loss receives the step's values named by its
            ``forward`` arguments.  Defaults to no distillation loss.
        student_feat_module (str): The student module whose output are the
            multi-scale features. Defaults to 'neck'.
        pred_cfg (dict, optional): Overrides of the final heads'
            ``test_cfg`` for the predictions a loss asks for during training
            (ISD's): at most ``nms_pre`` priors per level above
            ``score_thr`` enter NMS. Defaults to ``DISTILL_PRED_CFG``
            (100 per level, score 0.05, 100 per image); None keeps the
            detectors' test-time settings.
        isd_instances (str): Where the instances a loss asks for
            (``teacher_preds``, ``student_preds``) come from:
            ``'loss_pass'``, the student's positive samples of its own loss
            pass with both heads' outputs at them, where the student's
            head allows it (:mod:`dkd_mm.distillers.samples`; else
            predictions); ``'predictions'``, both detectors' post-NMS
            predictions. Defaults to 'loss_pass' (since 2026-12-07;
            the val check of its selections: docs/benchmarks.md).
        term_weights (dict[str, float], optional): A multiplier per
            distillation term by its output key (e.g. ``loss_fgd_fg``, as
            logged), applied before ``distill_scale``; terms not named keep
            1.  Used to put every method's terms on one scale (the
            benchmark's "scaled" rows, bench/scaling.py).  A key that no
            loss produces fails at the first step. Defaults to None.
        balance (dict, optional): Hold each term at a share of the
            student's detection loss, measured online
            (:class:`~dkd_mm.distillers.balance.TermBalancer`'s arguments:
            ``shares``, ``default_share``, ``momentum``); each term's share
            is logged as ``share_<term>``.  Replaces ``term_weights`` (the
            two are exclusive) and the losses' own ``loss_weight``s, whose
            scale it cancels.  None: the terms as the losses weight them.
            Defaults to None.
        init_cfg (dict, optional): Passed to ``BaseModel``.
    """

    def __init__(self,
                 student: ModelSpec,
                 teacher: ModelSpec,
                 teacher_ckpt: Optional[str] = None,
                 distill_losses: Optional[Dict[str, dict]] = None,
                 student_feat_module: str = 'neck',
                 pred_cfg: Optional[dict] = DISTILL_PRED_CFG,
                 isd_instances: str = 'loss_pass',
                 term_weights: Optional[Dict[str, float]] = None,
                 balance: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        student_cfg, student_scope = model_config(student, 'student')
        teacher_cfg, teacher_scope = model_config(teacher, 'teacher')
        if data_preprocessor is not None:
            student_cfg['data_preprocessor'] = data_preprocessor

        self.student = build_model(student_cfg, student_scope)
        # Building the rest draws from the global RNG (the teacher's and
        # the adapters' default init); it is rewound at the end, so that
        # with a given seed everything after the build (the student's
        # init_weights, the data loader's seeds) draws what it would draw
        # in a run of the student alone: paired rows in the benchmark.
        rng_after_student = torch.get_rng_state()
        self.data_preprocessor = self.student.data_preprocessor
        self.teacher = build_model(teacher_cfg, teacher_scope)
        # The structure is read from the built detectors (a dry forward of
        # each, which draws nothing and changes no statistic), before the
        # teacher's checkpoint is fetched.
        check_pair(self.student, self.teacher)
        channels_s = feature_channels(self.student, 'student',
                                      student_feat_module)
        channels_t = feature_channels(self.teacher, 'teacher')
        check_levels(channels_s, channels_t, student_feat_module)
        self.teacher_ckpt = teacher_ckpt
        if teacher_ckpt is None:
            print_log(
                'DKDDistiller: teacher_ckpt is None, the teacher keeps '
                'random weights', 'current', logging.WARNING)
        else:
            try:
                # The local file, so the teacher hook can checksum it.
                self.teacher_ckpt = load_teacher_weights(
                    self.teacher, teacher_ckpt)
            except FileNotFoundError as exc:
                where = (
                    teacher if isinstance(teacher, str) else 'TEACHER_CONFIG')
                raise FileNotFoundError(
                    f'{exc}. Train the teacher first (python tools/train.py '
                    f'{where}; the DKD configs name the file that writes '
                    'next to their teacher_ckpt), or point to a trained one '
                    '(a file or a model zoo http(s) URL) with '
                    '--cfg-options model.teacher_ckpt=PATH.') from None
        self._freeze_teacher()

        # One adapter per level; a neck's levels may differ in width.
        self.adapters = nn.ModuleList(
            _adapter(c_s, c_t) for c_s, c_t in zip(channels_s, channels_t))

        self.distill_losses = nn.ModuleDict()
        self._loss_args: Dict[str, List[str]] = {}
        for name, cfg in (distill_losses or {}).items():
            # Plain loss names resolve in dkd_mm, whatever the run's scope.
            cfg = dict(cfg)
            cfg.setdefault('_scope_', 'dkd_mm')
            try:
                loss = MODELS.build(cfg)
            except TypeError as exc:  # unknown or missing loss argument
                raise TypeError(f'distill_losses.{name}: {exc}') from exc
            self._loss_args[name] = loss_arguments(
                name, loss, DistillContext.field_names())
            self.distill_losses[name] = loss
        check_predictable(self._loss_args,
                          dict(teacher=self.teacher, student=self.student))
        self.term_weights = check_term_weights(term_weights,
                                               self.distill_losses)
        if balance is not None and self.term_weights:
            raise ValueError('term_weights and balance are exclusive: '
                             'balance sets each term\'s size (its share of '
                             'the detection loss); give shares instead')
        self.balancer = None if balance is None else build_balancer(
            balance, self.distill_losses)
        self._feat_module = student_feat_module
        if isd_instances not in ('loss_pass', 'predictions'):
            raise ValueError('isd_instances must be "loss_pass" or '
                             f'"predictions", got {isd_instances!r}')
        wants = any(f in args for args in self._loss_args.values()
                    for f in ('teacher_preds', 'student_preds'))
        kind = sample_kind(
            self.student) if wants and (isd_instances == 'loss_pass') else None
        # Both heads are read at the same priors: the same kind of head.
        self._sample_kind = kind if kind == sample_kind(self.teacher) else None
        self._samples = nullcontext() if self._sample_kind is None else \
            SampleRecorder(self.student, self._sample_kind)
        # A dense student's head outputs of its own loss pass are read for
        # the instances a loss asks for, rather than run again.
        self._head_module = 'bbox_head' if is_dense(
            self.student) and (self._sample_kind is not None or any(
                'student_preds' in args
                for args in self._loss_args.values())) else None
        recorded = [student_feat_module]
        if self._head_module is not None:
            recorded.append(self._head_module)
        self._recorder = OutputRecorder(self.student, recorded)
        self.pred_cfg = dict(pred_cfg) if pred_cfg is not None else None
        # See dkd_mm.utils.train_status: 0 skips the teacher and the losses.
        self.distill_scale = 1.0
        self._register_state_dict_hook(_drop_teacher_from_state_dict)
        torch.set_rng_state(rng_after_student)

    def _freeze_teacher(self) -> None:
        self.teacher.eval()
        for param in self.teacher.parameters():
            param.requires_grad = False
        # init_weights of the runner must not overwrite the loaded weights.
        self.teacher._is_init = True

    def train(self, mode: bool = True) -> 'DKDDistiller':
        """Set the student's mode; the teacher always stays in eval."""
        super().train(mode)
        self.teacher.eval()
        return self

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args,
                              **kwargs) -> None:
        # Run checkpoints do not hold the teacher: keep the loaded one.
        teacher_prefix = prefix + 'teacher.'
        if not any(k.startswith(teacher_prefix) for k in state_dict):
            for key, value in self.teacher.state_dict().items():
                state_dict[teacher_prefix + key] = value
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self,
                inputs: Tensor,
                data_samples: Optional[list] = None,
                mode: str = 'tensor') -> Union[dict, list, tuple]:
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs, data_samples)
        raise RuntimeError(f'Invalid mode "{mode}". Only supports loss, '
                           'predict and tensor mode')

    def loss(self, batch_inputs: Tensor,
             batch_data_samples: list) -> Dict[str, Tensor]:
        """Student detection losses, ``loss_*`` distillation terms (times
        ``distill_scale``) and the losses' logged statistics."""
        distill = self.distill_scale > 0 and len(self.distill_losses) > 0
        if distill:
            with torch.no_grad():
                teacher_feats = self.teacher.extract_feat(batch_inputs)
        with self._recorder, self._samples:
            losses = self.student.loss(batch_inputs, batch_data_samples)
        if not distill:
            return losses

        context = self._context(batch_inputs, batch_data_samples,
                                teacher_feats,
                                getattr(self._samples, 'records', None))
        terms, stats = {}, {}
        for name, loss_module in self.distill_losses.items():
            kwargs = {
                arg: getattr(context, arg)
                for arg in self._loss_args[name]
            }
            loss_terms, loss_stats = split_loss_output(name,
                                                       loss_module(**kwargs))
            terms.update(loss_terms)
            stats.update(loss_stats)
        if self.balancer is not None:
            detection = detection_loss(losses)
            terms = self.balancer(terms, detection)
        terms = {
            k: v * self.term_weights.get(k, 1.0) * self.distill_scale
            for k, v in terms.items()
        }
        if self.balancer is not None:  # each term's share, as applied
            denominator = detection.detach().float().clamp(min=1e-12)
            stats.update({
                share_key(k): v.detach().float() / denominator
                for k, v in terms.items()
            })
        for key, value in {**terms, **stats}.items():
            if key in losses:
                raise KeyError(f'distillation output {key!r} clashes '
                               'with a student loss of that name')
            losses[key] = value
        unknown = set(self.term_weights) - set(losses)
        if unknown:
            raise KeyError(f'term_weights: {sorted(unknown)} are not terms '
                           'of the distillation losses; they give '
                           f'{sorted(k for k in losses if "loss" in k)}')
        return losses

    @torch.no_grad()
    def distill_context(self, batch_inputs: Tensor,
                        batch_data_samples: list) -> DistillContext:
        """What the distillation losses receive for a batch, to inspect.

        The teacher and the student's features (caught on the student's
        feature module, as in :meth:`loss`), without gradients.  Where the
        instances come from the student's loss pass (``isd_instances``),
        that pass runs too; else the student's predictions are its head's
        on its features, which :meth:`loss` takes from its loss pass.

        Args:
            batch_inputs (Tensor): ``(N, 3, H, W)`` preprocessed images.
            batch_data_samples (list[DetDataSample]): Their samples, each
                with ``gt_instances`` (``bboxes`` and ``labels``, possibly
                empty).

        Returns:
            DistillContext: The step's context.
        """
        teacher_feats = self.teacher.extract_feat(batch_inputs)
        if self._sample_kind is None:
            with self._recorder:
                self.student.extract_feat(batch_inputs)
            return self._context(batch_inputs, batch_data_samples,
                                 teacher_feats)
        # ISD's instances come from the student's loss pass: run it.
        with self._recorder, self._samples:
            self.student.loss(batch_inputs, batch_data_samples)
        return self._context(batch_inputs, batch_data_samples, teacher_feats,
                             self._samples.records)

    @property
    def recorded_student_feats(self) -> tuple:
        """The student's feature levels (its ``student_feat_module``'s
        output, before the adapters) caught in the last :meth:`loss` or
        :meth:`distill_context` call, in its graph: e.g. to take the
        gradient of a loss term on them."""
        feats = self._recorder.outputs[self._feat_module]
        return (feats, ) if isinstance(feats, Tensor) else tuple(feats)

    def _context(self,
                 batch_inputs: Tensor,
                 batch_data_samples: list,
                 teacher_feats: tuple,
                 records: Optional[list] = None) -> DistillContext:
        """The context of a step whose student pass was recorded
        (``records``: its positive samples, where they were recorded)."""
        raw_feats, teacher_feats = self.recorded_student_feats, tuple(
            teacher_feats)
        if len(raw_feats) != len(self.adapters):
            raise ValueError(f'the student gave {len(raw_feats)} feature '
                             f'levels, but it gave {len(self.adapters)} when '
                             'the distiller was built')
        gt_instances = [s.gt_instances for s in batch_data_samples]
        head_outs = self._recorder.outputs.get(self._head_module)
        predict_teacher = partial(predict_from_feats, self.teacher,
                                  teacher_feats, batch_data_samples,
                                  self.pred_cfg)
        predict_student = partial(predict_from_feats, self.student, raw_feats,
                                  batch_data_samples, self.pred_cfg, head_outs)
        if records:  # ISD's instances from the loss pass
            both = lru_cache(maxsize=None)(
                partial(loss_pass_instances, self._sample_kind,
                        self.student, self.teacher, teacher_feats, head_outs,
                        list(records), gt_instances))
            predict_teacher = lambda: both()['teacher_preds']  # noqa: E731
            predict_student = lambda: both()['student_preds']  # noqa: E731
        return DistillContext(
            student_feats=tuple(
                adapter(feat)
                for adapter, feat in zip(self.adapters, raw_feats)),
            teacher_feats=teacher_feats,
            gt_bboxes=[gt_box_tensor(g.bboxes) for g in gt_instances],
            gt_labels=[g.labels for g in gt_instances],
            batch_input_shape=tuple(batch_inputs.shape[-2:]),
            predict_teacher=predict_teacher,
            predict_student=predict_student,
            read_train_status=current_train_status)

    def predict(self, batch_inputs: Tensor, batch_data_samples: list) -> list:
        """The student's predictions, as its upstream ``predict`` gives."""
        return self.student.predict(batch_inputs, batch_data_samples)

    def _forward(self,
                 batch_inputs: Tensor,
                 batch_data_samples: Optional[list] = None) -> tuple:
        return self.student._forward(batch_inputs, batch_data_samples)

    def extract_feat(self, batch_inputs: Tensor) -> tuple:
        return self.student.extract_feat(batch_inputs)


def gt_box_tensor(boxes) -> Tensor:
    """Ground-truth boxes as the losses take them, ``(K, 4|5)``: mmrotate's
    quadrilaterals (``QuadriBoxes``, ``(K, 8)``, the GT of its ``qbox``
    configs) as their minimum-area rotated boxes."""
    if getattr(boxes, 'box_dim', None) == 8:
        boxes = boxes.convert_to('rbox')
    return box_tensor(boxes)


def _adapter(student_channels: int, teacher_channels: int) -> nn.Module:
    """A 1x1 convolution to the teacher's width, or none if they agree."""
    if student_channels == teacher_channels:
        return nn.Identity()
    return nn.Conv2d(student_channels, teacher_channels, kernel_size=1)


def _drop_teacher_from_state_dict(module: nn.Module, state_dict: dict,
                                  prefix: str, local_metadata: dict) -> dict:
    for key in [k for k in state_dict if k.startswith(prefix + 'teacher.')]:
        del state_dict[key]
    return state_dict
