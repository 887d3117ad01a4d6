"""NWPU VHR-10 end to end: a generated NWPU-format sample loads, trains a
horizontal mmdet detector through tools/train.py and is evaluated with
mmdet's VOC mAP."""
import re

from .conftest import run_tool


def test_nwpu_sample_trains_and_evaluates(tmp_path):
    root = str(tmp_path / 'nwpu')
    run_tool([
        'tools/data/nwpu/make_sample.py', root, '--num-pos', '4', '--num-neg',
        '1', '--seed', '0'
    ])
    options = [
        f'{loader}.{key}'
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')
        for key in (f'dataset.data_root={root}/', 'dataset.ann_file=',
                    'num_workers=0', 'persistent_workers=False')
    ]
    log = run_tool([
        'tools/train.py', 'configs/nwpu/retinanet_r18_fpn_scratch_nwpu.py',
        '--work-dir',
        str(tmp_path / 'run'), '--cfg-options', 'train_cfg.max_epochs=1',
        'train_dataloader.batch_size=2',
        'train_dataloader.dataset.pipeline.2.scale=(256,256)',
        'val_dataloader.dataset.pipeline.1.scale=(256,256)',
        'default_hooks.visualization.draw=False',
        'default_hooks.logger.interval=1'
    ] + options)
    # 4 positive images (the negative one is filtered for training),
    # batch 2: 2 iterations; validation sees all 5.
    assert re.search(r'Epoch\(train\)\s+\[1\]\[2/2\]', log)
    assert re.search(r'Epoch\(val\)\s+\[1\]\[5/5\]', log)
    assert 'pascal_voc/mAP' in log
