"""A detector's prediction with its network and post-processing timed
apart, and the network's FLOPs (bench/cost_inference.py, bench/nms_1024.py).

:func:`staged_predict` runs the backbone, neck and first head (the dense
head, or a two-stage detector's RPN head) itself, then the distiller's own
prediction path on their outputs
(:func:`dkd_mm.distillers.context.predict_from_feats`, the detector's
``test_cfg``), which decodes those outputs instead of running the head
again.  The two times:

* network: backbone + neck + that head's forward; for a two-stage detector
  also the RoI head's forward on the proposals (RoI feature extraction and
  its fully connected layers), timed by forward hooks on those modules;
* post-processing: the rest of the prediction: score threshold, top-k,
  box decoding and NMS (for a two-stage detector: proposal NMS and the
  final NMS).

:func:`same_as_predict` checks the stages' results against the detector's
own ``predict(..., rescale=True)``: the inputs here have scale factor 1, so
the input frame of ``predict_from_feats`` is the image's.
"""
import copy
import time
from typing import Dict, List, Tuple

import torch
from mmdet.structures import DetDataSample
from torch import Tensor, nn

from dkd_mm.distillers.context import is_dense, predict_from_feats
from dkd_mm.functional import box_tensor


class _Clock:
    """Seconds since an arbitrary start, after the device's queued work."""

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == 'cuda'

    def __call__(self) -> float:
        if self.cuda:
            torch.cuda.synchronize()
        return time.perf_counter()


class _ForwardTime:
    """Seconds spent in the forward of ``modules`` (siblings, none inside
    another) while the context is open."""

    def __init__(self, modules: List[nn.Module], clock: _Clock) -> None:
        self.modules, self.clock = modules, clock
        self.seconds, self._start, self._handles = 0.0, 0.0, []

    def __enter__(self) -> '_ForwardTime':
        self.seconds = 0.0
        for module in self.modules:
            self._handles += [
                module.register_forward_pre_hook(self._enter_module),
                module.register_forward_hook(self._leave_module)
            ]
        return self

    def __exit__(self, *exc_info) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _enter_module(self, module: nn.Module, args: tuple) -> None:
        self._start = self.clock()

    def _leave_module(self, module: nn.Module, args: tuple,
                      output: object) -> None:
        self.seconds += self.clock() - self._start


def first_head(detector: nn.Module) -> nn.Module:
    """The head on the neck: the dense head, or the RPN head."""
    return detector.bbox_head if is_dense(detector) else detector.rpn_head


def _roi_network(detector: nn.Module) -> List[nn.Module]:
    """The RoI head's network modules (none for a dense detector)."""
    if is_dense(detector):
        return []
    roi_head = detector.roi_head
    if roi_head.with_mask:
        raise NotImplementedError('staged_predict: RoI heads with a mask '
                                  'branch are not measured')
    modules = [roi_head.bbox_roi_extractor, roi_head.bbox_head]
    if roi_head.with_shared_head:
        modules.append(roi_head.shared_head)
    return modules


@torch.no_grad()
def staged_predict(
        detector: nn.Module, inputs: Tensor,
        data_samples: List[DetDataSample]) -> Tuple[list, float, float]:
    """The detector's predictions, with the seconds of the network and of
    post-processing apart (see the module docstring).

    Args:
        detector (nn.Module): An mmdet/mmrotate single-stage, anchor-free or
            two-stage (RPN + bbox-only RoI head) detector in eval mode.
        inputs (Tensor): ``(N, 3, H, W)`` preprocessed images.
        data_samples (list[DetDataSample]): Their samples.

    Returns:
        tuple: ``results`` (list[InstanceData], per image ``bboxes``,
        ``scores``, ``labels``), ``network_s`` and ``post_s`` (float).
    """
    clock = _Clock(inputs.device)
    roi_network = _ForwardTime(_roi_network(detector), clock)
    start = clock()
    feats = detector.extract_feat(inputs)
    outs = first_head(detector)(feats)
    network = clock()
    with roi_network:
        results = predict_from_feats(
            detector, feats, data_samples, head_outs=outs)
    end = clock()
    return (results, network - start + roi_network.seconds,
            end - network - roi_network.seconds)


@torch.no_grad()
def same_as_predict(detector: nn.Module, inputs: Tensor,
                    data_samples: List[DetDataSample]) -> bool:
    """Whether :func:`staged_predict` gives the detector's own
    ``predict(..., rescale=True)`` boxes, scores and labels."""
    staged, _, _ = staged_predict(detector, inputs, data_samples)
    own = detector.predict(inputs, copy.deepcopy(data_samples), rescale=True)
    for mine, theirs in zip(staged, own):
        theirs = theirs.pred_instances
        if len(mine) != len(theirs) or not torch.equal(mine.labels,
                                                       theirs.labels):
            return False
        if not (torch.allclose(mine.scores, theirs.scores) and torch.allclose(
                box_tensor(mine.bboxes), box_tensor(theirs.bboxes))):
            return False
    return True


class _Network(nn.Module):
    """Backbone, neck and the first head (dense or RPN) as one module."""

    def __init__(self, detector: nn.Module) -> None:
        super().__init__()
        self.detector = detector

    def forward(self, inputs: Tensor) -> tuple:
        return first_head(self.detector)(self.detector.extract_feat(inputs))


def network_gflops(detector: nn.Module, size: int) -> Dict[str, float]:
    """Giga multiply-adds of the network on one ``size`` px input.

    Counted by mmengine's ``FlopAnalyzer`` (one multiply-add = one FLOP, as
    ``get_model_complexity_info``): backbone, neck and dense or RPN head;
    for a two-stage detector also the RoI box head's layers on the RPN's
    ``max_per_img`` proposals (RoI feature extraction itself is not
    counted).

    Returns:
        dict: ``gflops`` (all), ``backbone_gflops`` (its share) and
        ``rois``, the proposals counted (0 for a single-stage detector).
    """
    from mmengine.analysis import FlopAnalyzer
    param = next(detector.parameters())
    inputs = torch.zeros(1, 3, size, size, device=param.device)

    def analyse(module: nn.Module, args: tuple) -> FlopAnalyzer:
        analyzer = FlopAnalyzer(module, args)
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        analyzer.tracer_warnings('none')
        return analyzer

    network = analyse(_Network(detector).eval(), (inputs, ))
    flops = network.total()
    rois = 0
    if not is_dense(detector):
        rois = int(detector.test_cfg.rpn.max_per_img)
        extractor = detector.roi_head.bbox_roi_extractor
        out_size = extractor.roi_layers[0].output_size
        feats = torch.zeros(rois, extractor.out_channels, *out_size).to(inputs)
        flops += analyse(detector.roi_head.bbox_head.eval(), (feats, )).total()
    return dict(
        gflops=flops / 1e9,
        backbone_gflops=network.total('detector.backbone') / 1e9,
        rois=rois)
