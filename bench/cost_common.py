"""What bench/cost.py's measurements share: a config with its options and
scope, its data loader, the device, and a measurement in a fresh process
(``python -m bench.cost``).

The cost modules (cost.py, cost_step.py, cost_families.py,
cost_inference.py) and nms_1024.py import these; this module imports none
of them.
"""
import argparse
import json
import os.path as osp
import subprocess
import sys
import time
from typing import Iterator, List, Optional

import torch

from bench.runs import ROOT

DATA_ROOT = 'data/synthetic_dota'  # made by bench/cost.py where missing


def load_config(config: str, options: List[str] = ()):
    """The config file with ``options`` merged, its custom imports done
    and its default scope current."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmengine.utils import import_modules_from_strings
    cfg = Config.fromfile(osp.join(ROOT, config))
    cfg.merge_from_dict(parse_cfg_options(options))
    if cfg.get('custom_imports'):  # e.g. bench.mmrazor_plugin
        import_modules_from_strings(**cfg.custom_imports)
    DefaultScope.get_instance(
        f'cost{time.time()}', scope_name=cfg.default_scope)
    return cfg


def build_loader(cfg, data_root: str, key: str = 'train_dataloader'):
    """The config's data loader ``key`` on ``data_root``, in-process."""
    from mmengine.runner import Runner
    loader = cfg[key]
    loader.num_workers = 0
    loader.persistent_workers = False
    loader.dataset.data_root = osp.join(ROOT, data_root) + '/'
    if loader.get('sampler', {}).get('type') == 'DefaultSampler':
        # The same batches in every process, so that rows compare.
        loader.sampler.seed = 0
    return Runner.build_dataloader(loader)


def parse_cfg_options(options: List[str]) -> dict:
    """``KEY=VALUE`` strings parsed as ``tools/train.py --cfg-options``
    parses them (mmengine's ``DictAction``)."""
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser()
    parser.add_argument(
        '--cfg-options', nargs='*', action=DictAction, default={})
    return parser.parse_args(['--cfg-options', *options]).cfg_options


def endless(loader) -> Iterator:
    """The loader's batches, epoch after epoch (small data sets)."""
    while True:
        yield from loader


def pick_device(device: Optional[str]) -> str:
    """``device``, or CUDA where available, else the CPU."""
    return device or ('cuda' if torch.cuda.is_available() else 'cpu')


def in_fresh_process(args: list) -> dict:
    """``python -m bench.cost ARGS`` from the repository root; the JSON of
    the last line it prints."""
    out = subprocess.run(
        [sys.executable, '-m', 'bench.cost'] + args,
        cwd=ROOT,
        capture_output=True,
        text=True)
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])
