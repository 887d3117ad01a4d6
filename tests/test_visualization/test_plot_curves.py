"""tools/analysis/plot_curves.py on json logs: one written by hand in
mmengine 0.10.7's format, and one written by a real mmengine Runner."""
import importlib.util
import json
import os.path as osp

import cv2
import pytest
import torch
from mmengine.evaluator import BaseMetric, Evaluator
from mmengine.logging import MessageHub
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _load_tool():
    path = osp.join(ROOT, 'tools/analysis/plot_curves.py')
    spec = importlib.util.spec_from_file_location('plot_curves', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


plot_curves = _load_tool()


def _write_log(path, scale: float = 1.0) -> str:
    """Two logged iterations, a validation, two more, as mmengine writes
    them in an iteration-based run (the val step is the epoch: 0)."""
    lines = []
    for step in (1, 2, 3, 4):
        lines.append(
            dict(
                lr=0.01 * step,
                loss=2.0 / step * scale,
                loss_cls=1.0 / step,
                loss_global_distill_fg=0.1 * scale,
                isd_candidates=10,
                isd_selected=step,
                isd_outliers=1,
                isd_false_positives=5,
                data_time=0.1,
                time=1.0,
                iter=step,
                step=step))
        if step == 2:
            lines.append({
                'dota/mAP': 0.25 * scale,
                'dota/AP50': 0.5,
                'data_time': 0.0,
                'time': 0.5,
                'step': 0
            })
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(''.join(json.dumps(line) + '\n' for line in lines))
    return str(path)


def test_load_curves_places_val_after_its_iteration(tmp_path):
    curves = plot_curves.load_curves(_write_log(tmp_path / 'a.json'))
    assert curves['loss'] == ([1, 2, 3, 4], [2.0, 1.0, 2 / 3, 0.5])
    assert curves['dota/mAP'] == ([2], [0.25])
    assert curves['val/time'] == ([2], [0.5])
    assert curves['time'][0] == [1, 2, 3, 4]
    assert curves['isd_selected'][1] == [1.0, 2.0, 3.0, 4.0]
    assert 'step' not in curves


def test_two_runs_overlaid_png_of_expected_size(tmp_path):
    logs = [
        _write_log(tmp_path / 'run_a' / '20240101_000000' / 'vis_data' /
                   'scalars.json'),
        _write_log(tmp_path / 'b.json', scale=0.5)
    ]
    out = str(tmp_path / 'curves.png')
    plot_curves.main([
        str(tmp_path / 'run_a'), logs[1], '--keys', 'loss*', 'isd_*', 'lr',
        'dota/mAP', '--out', out, '--title', 'two runs'
    ])
    # loss, loss_cls, loss_global_distill_fg, isd_* (4 keys in one panel),
    # lr, dota/mAP:
    # 6 panels, 2 rows x 3 columns of 4 x 3 inches at 100 dpi.
    image = cv2.imread(out)
    assert image is not None and image.shape == (600, 1200, 3)
    assert image.std() > 0


def test_default_keys_pdf_and_errors(tmp_path):
    log = _write_log(tmp_path / 'a.json')
    runs = [plot_curves.load_curves(log)]
    assert plot_curves.select_keys(
        ['loss*'], runs) == ['loss', 'loss_cls', 'loss_global_distill_fg']
    assert plot_curves.group_keys(['lr', 'isd_a', 'isd_b'],
                                  ['isd_*']) == [('lr', ['lr']),
                                                 ('isd_*', ['isd_a', 'isd_b'])]
    out = str(tmp_path / 'curves.pdf')
    plot_curves.main([log, '--out', out])
    assert open(out, 'rb').read(4) == b'%PDF'
    with pytest.raises(KeyError, match='no key matches'):
        plot_curves.main([log, '--keys', 'nothing*', '--out', out])
    with pytest.raises(SystemExit):
        plot_curves.main([log, '--legend', 'a', 'b', '--out', out])


class _Toy(BaseModel):
    """Logs what DKDDistiller logs: loss_* terms and ISD counts."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(inputs)  # default_collate stacked (B, 2)
        if mode == 'loss':
            hub = MessageHub.get_current_instance()
            hub.update_scalar('train/isd_selected', 3)
            return dict(
                loss_cls=out.pow(2).mean(),
                loss_global_distill_fg=out.mean()**2)
        return [dict(pred=o) for o in out]


class _Data(Dataset):

    def __len__(self) -> int:
        return 4

    def __getitem__(self, index: int):
        return dict(inputs=torch.full((2, ), float(index)))


class _Metric(BaseMetric):
    default_prefix = 'dota'

    def process(self, data_batch, data_samples) -> None:
        self.results.append(len(data_samples))

    def compute_metrics(self, results: list) -> dict:
        return dict(mAP=0.5)


def test_real_mmengine_log(tmp_path):
    loader = dict(
        dataset=_Data(),
        batch_size=2,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=False),
        collate_fn=dict(type='default_collate'))
    runner = Runner(
        model=_Toy(),
        work_dir=str(tmp_path),
        train_dataloader=loader,
        val_dataloader=loader,
        val_evaluator=Evaluator([_Metric()]),
        train_cfg=dict(by_epoch=False, max_iters=4, val_interval=2),
        val_cfg=dict(),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(type='CheckpointHook', interval=100)),
        default_scope='mmrotate',  # the tests' scope, kept for later tests
        experiment_name='plot_curves_test')
    runner.train()
    out = str(tmp_path / 'curves.png')
    plot_curves.main([
        str(tmp_path), '--keys', 'loss*', 'isd_*', 'lr', 'dota/mAP', '--out',
        out
    ])
    curves = plot_curves.load_curves(str(tmp_path))
    assert curves['loss_global_distill_fg'][0] == [1, 2, 3, 4]
    assert curves['isd_selected'][1] == [3.0] * 4
    assert curves['dota/mAP'] == ([2, 4], [0.5, 0.5])
    # loss, loss_cls, loss_global_distill_fg, isd_*, lr, dota/mAP: 2 x 3
    # panels.
    assert cv2.imread(out).shape == (600, 1200, 3)
