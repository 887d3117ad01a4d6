"""One measurement of bench/cost.py's tables, in the process that runs it:
the mean training step (or teacher forward, or ISD's teacher predictions)
of a config on real batches, and the 256 px inference cost of a detector.
"""
import random
import resource
import time
from typing import Dict, List, Optional

import numpy as np
import torch

from bench.cost_common import (DATA_ROOT, build_loader, endless, load_config,
                               pick_device)
from bench.cost_memory import PeakMemory
from dkd_mm.distillers.context import DISTILL_PRED_CFG, predict_from_feats


def build(config: str,
          teacher_ckpt: Optional[str],
          options: List[str] = (),
          data_root: str = DATA_ROOT,
          student_ckpt: Optional[str] = None):
    """The config's model (a distiller with ``teacher_ckpt``, and
    ``student_ckpt``'s weights in the detector being trained) and its
    training data loader on ``data_root``."""
    from dkd_mm.registry import MODELS
    cfg = load_config(config, options)
    if 'teacher' in cfg.model:
        cfg.model.teacher_ckpt = teacher_ckpt
    model = MODELS.build(cfg.model)
    if student_ckpt:
        from dkd_mm.distillers.builder import load_teacher_weights

        # The detector being trained: a distiller's student, mmrazor's
        # architecture, or the plain detector itself.
        student = getattr(model, 'student',
                          getattr(model, 'architecture', model))
        load_teacher_weights(student, student_ckpt)  # strict, weights only
    return model, build_loader(cfg, data_root)


def measure_step(config: str,
                 mode: str,
                 steps: int,
                 teacher_ckpt: Optional[str],
                 options: List[str] = (),
                 data_root: str = DATA_ROOT,
                 student_ckpt: Optional[str] = None,
                 warmup: int = 2,
                 memory_detail: bool = False,
                 device: Optional[str] = None) -> Dict[str, float]:
    """Mean seconds of a training step ('train') or teacher forward.

    Args:
        config (str): The model's config file.
        mode (str): 'train' (loss, backward, SGD step), 'forward' (the
            detector's ``extract_feat`` under ``no_grad``, eval mode) or
            'predict' (``extract_feat`` and the post-NMS predictions that
            DKD's ISD takes from its teacher, with the distiller's default
            ``pred_cfg``, under ``no_grad``, eval mode).
        steps (int): Steps timed, after ``warmup`` untimed ones.
        teacher_ckpt (str, optional): A distiller's teacher weights.
        options (list[str]): ``--cfg-options`` of the config.
        data_root (str): The training data. Defaults to :data:`DATA_ROOT`.
        student_ckpt (str, optional): Weights of the detector being trained
            ('train'; a distiller's student) or predicting ('predict').
            Defaults to None.
        warmup (int): Untimed steps first. Defaults to 2.
        memory_detail (bool): Also return ``step_peak_mb`` and
            ``growth_mb`` (:class:`bench.cost_memory.PeakMemory` over the
            warm-up and timed steps, from right after the model, data
            loader and optimizer were built). Defaults to False.
        device (str, optional): Where the model runs. Defaults to CUDA where
            available, else the CPU.

    Returns:
        dict: ``seconds``, ``peak_mb`` (CPU: the process's maximum resident
        set, model building included; GPU: torch's peak allocation) and,
        with ``memory_detail``, ``step_peak_mb`` and ``growth_mb``.
    """
    device = pick_device(device)
    torch.manual_seed(0)
    np.random.seed(0)  # the pipeline's random flips: the same batches
    random.seed(0)
    model, loader = build(config, teacher_ckpt, options, data_root,
                          student_ckpt if mode != 'forward' else None)
    model.to(device)
    model.train()
    optim = torch.optim.SGD([p for p in model.parameters() if p.requires_grad],
                            lr=1e-4)
    cuda = device.startswith('cuda')
    memory = PeakMemory(device)
    memory.start()
    times = []
    for i, batch in enumerate(endless(loader)):
        if i == steps + warmup:
            break
        data = model.data_preprocessor(batch, True)
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        if mode == 'forward':
            model.eval()
            with torch.no_grad():
                model.extract_feat(data['inputs'])
        elif mode == 'predict':  # what DKD's teacher runs for ISD
            model.eval()
            with torch.no_grad():
                predict_from_feats(model, model.extract_feat(data['inputs']),
                                   data['data_samples'], DISTILL_PRED_CFG)
        else:
            losses = model.loss(data['inputs'], data['data_samples'])
            total = sum(v.sum() if isinstance(v, torch.Tensor) else sum(v)
                        for k, v in losses.items() if 'loss' in k)
            optim.zero_grad()
            total.backward()
            optim.step()
        if cuda:
            torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if cuda:
        peak_mb = torch.cuda.max_memory_allocated() / 2**20
    result = dict(seconds=float(np.mean(times)), peak_mb=float(peak_mb))
    if memory_detail:
        result.update(
            step_peak_mb=memory.peak_mb(), growth_mb=memory.growth_mb())
    return result


def inference(config: str,
              num_images: int,
              options: List[str] = (),
              data_root: str = DATA_ROOT) -> Dict[str, float]:
    """Parameters, FLOPs (256 px) and images/s (``num_images`` after two
    untimed, one at a time) of the config's detector (a distiller's
    student)."""
    from mmengine.analysis import get_model_complexity_info
    model, loader = build(config, None, options, data_root)
    model.eval()
    detector = getattr(model, 'student', model)
    info = get_model_complexity_info(
        detector, input_shape=(3, 256, 256), show_table=False, show_arch=False)
    seen, start = 0, None
    with torch.no_grad():
        for batch in endless(loader):
            data = model.data_preprocessor(batch, False)
            for i in range(len(data['inputs'])):
                if seen == 2:
                    start = time.perf_counter()
                detector.predict(data['inputs'][i:i + 1],
                                 data['data_samples'][i:i + 1])
                seen += 1
            if seen >= num_images + 2:
                break
    return dict(
        params_m=info['params'] / 1e6,
        gflops=info['flops'] / 1e9,
        images_per_s=(seen - 2) / (time.perf_counter() - start))
