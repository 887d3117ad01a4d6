"""A training config cut down to a few steps on small data, and the loss
histories of its run: the short trainings of the tests and of
bench/gpu_check.py."""
from typing import Dict, List, Tuple

from mmengine.config import Config


def short_run_cfg(cfg: Config,
                  data_root: str,
                  work_dir: str,
                  steps: int,
                  size: int = 128) -> Config:
    """``cfg`` changed in place to train ``steps`` iterations on
    ``data_root`` (``size`` px images, batch 2, no worker processes),
    with no validation, test or checkpoint, a log line every step and, for
    a distiller, a random teacher and the full distillation weights from
    the first step (the teacher hook without warm-up).

    Args:
        cfg (Config): An iteration-based training config of the repo.
        data_root (str): The training data, as the dataset takes it.
        work_dir (str): The run's work dir.
        steps (int): Training iterations.
        size (int): Side of the images; the pipeline's resize keeps it.
            Defaults to 128 (the tiny synthetic split).

    Returns:
        Config: ``cfg``.
    """
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=0)
    cfg.train_cfg.update(max_iters=steps, val_interval=steps + 1)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.test_cfg = cfg.test_dataloader = cfg.test_evaluator = None
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger.interval = 1
    if 'teacher' in cfg.model:
        cfg.model.teacher_ckpt = None
        cfg.custom_hooks = [
            dict(type='dkd_mm.DKDTeacherHook', status_mode='iter')
        ]
    loader = cfg.train_dataloader
    loader.update(batch_size=2, num_workers=0, persistent_workers=False)
    loader.dataset.update(data_root=data_root, img_shape=(size, size))
    for step in loader.dataset.pipeline:
        if step.type.endswith('Resize'):
            step.scale = (size, size)
    return cfg


def train_losses(cfg: Config) -> Tuple[Dict[str, List[float]], str]:
    """Train ``cfg`` with mmengine's Runner.

    Returns:
        tuple: The ``train/loss*`` histories of the message hub (keys
        without ``train/``, one value a logged step) and the device type
        the model trained on ('cpu', 'cuda').
    """
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg)
    runner.train()
    losses = {
        key[len('train/'):]: buffer.data[0]
        for key, buffer in runner.message_hub.log_scalars.items()
        if key.startswith('train/loss')
    }
    return losses, next(runner.model.parameters()).device.type
