"""Every command of docs/getting_started.md, run as written on the project's
samples (issue 12).

The commands run in a scratch folder laid out as the repository root
(``tools`` and ``configs`` linked, ``data/`` holding the samples in the
layouts the page names), in the page's order.  What the test changes, and
nothing else:

* ``tools/train.py`` gets ``--cfg-options`` that stop after two images
  (one epoch of a 2-image subset, batch 1, no validation) and switch off
  the ImageNet initialisation (nothing can be downloaded here).  Its last
  checkpoint, ``epoch_1.pth``, is then linked as the ``epoch_12.pth`` that
  the page (and the DKD configs' ``teacher_ckpt``) name.
* ``tools/test.py`` tests the first two images of its split.
* The multi-GPU launches (``tools/dist_train.sh`` with more than one GPU,
  ``tools/slurm_train.sh``) are only checked to name existing configs.
* The model-zoo teacher is read from the download cache, which the test
  fills beforehand with a checkpoint of the same detector in the zoo's
  format (plain ``state_dict`` and ``meta``).
"""
import glob
import os
import os.path as osp
import re
import shlex
import shutil
import subprocess
import sys
import time
from typing import Dict, List, NamedTuple, Optional

import pytest
import torch

from dkd_mm.testing._utils import REPO_ROOT
from dkd_mm.testing.dota_sample import write_dota_scenes

DOC = osp.join(REPO_ROOT, 'docs', 'getting_started.md')
FENCE = re.compile(
    r'(?:<!-- file: (?P<path>\S+) -->\n)?```(?P<lang>\w+)\n'
    r'(?P<body>.*?)```', re.S)
EPOCHS = 'epoch_12.pth'


class Block(NamedTuple):
    """A fenced block of the page; ``path`` where it is a file to write."""
    lang: str
    body: str
    path: Optional[str]


def doc_blocks(text: str) -> List[Block]:
    """The fenced blocks of ``text`` in order."""
    return [
        Block(m.group('lang'), m.group('body'), m.group('path'))
        for m in FENCE.finditer(text)
    ]


def block_commands(body: str) -> List[List[str]]:
    """The commands of a bash block: continued lines joined, split as the
    shell splits them (environment assignments kept in front)."""
    joined = re.sub(r'\\\n\s*', ' ', body)
    return [
        shlex.split(line) for line in joined.splitlines()
        if line.strip() and not line.lstrip().startswith('#')
    ]


def is_multi_gpu(cmd: List[str]) -> bool:
    """A launch this machine cannot make: slurm, or several GPUs."""
    script = next((a for a in cmd if a.endswith('.sh')), '')
    if script.endswith('slurm_train.sh'):
        return True
    return script.endswith('dist_train.sh') and int(
        cmd[cmd.index(script) + 2]) > 1


def shortened(cmd: List[str]) -> List[str]:
    """``cmd`` with the test's changes (module docstring)."""
    tool = cmd[1] if cmd[0] == 'python' else ''
    if tool == 'tools/train.py':
        prefix = 'model.student.' if 'dkd_' in cmd[2] else 'model.'
        extra = [
            'train_cfg.max_epochs=1', 'train_cfg.val_interval=100',
            'train_dataloader.batch_size=1', 'train_dataloader.num_workers=0',
            'train_dataloader.persistent_workers=False',
            'train_dataloader.dataset.indices=2',
            'default_hooks.checkpoint.interval=1',
            'default_hooks.logger.interval=1',
            f'{prefix}backbone.init_cfg=None'
        ]
    elif tool == 'tools/test.py':
        extra = [
            'test_dataloader.dataset.indices=2',
            'test_dataloader.num_workers=0',
            'test_dataloader.persistent_workers=False'
        ]
    else:
        return [sys.executable] + cmd[1:] if cmd[0] == 'python' else cmd
    # DictAction takes every key=value after --cfg-options.
    if '--cfg-options' not in cmd:
        cmd = cmd + ['--cfg-options']
    return [sys.executable] + cmd[1:] + extra


def link_tree(src: str, dst: str) -> None:
    """``dst`` mirrors ``src``: real folders, files linked (so that files
    the page writes land in the scratch folder, not the repository)."""
    for root, _, files in os.walk(src):
        out = osp.join(dst, osp.relpath(root, src))
        os.makedirs(out, exist_ok=True)
        for name in files:
            if not name.endswith('.pyc'):
                os.symlink(osp.join(root, name), osp.join(out, name))


def zoo_teacher_checkpoint(url: str, cache: str) -> None:
    """A checkpoint in the model zoo's format (the detector's own
    ``state_dict`` and ``meta``) under the name the URL downloads to."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from dkd_mm.registry import MODELS
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'dota',
                 'rotated-retinanet-le90_r50_fpn_1x_dota.py'))
    cfg.model.backbone.init_cfg = None
    with DefaultScope.overwrite_default_scope('mmrotate'):
        model = MODELS.build(cfg.model)
    os.makedirs(cache, exist_ok=True)
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(mmrotate_version='1.0.0rc1', epoch=12)),
        osp.join(cache, osp.basename(url)))


@pytest.fixture(scope='module')
def workspace(tmp_path_factory) -> Dict[str, str]:
    """The scratch root and the environment the page's commands run in."""
    root = str(tmp_path_factory.mktemp('getting_started'))
    os.symlink(osp.join(REPO_ROOT, 'tools'), osp.join(root, 'tools'))
    link_tree(osp.join(REPO_ROOT, 'configs'), osp.join(root, 'configs'))
    env = dict(
        os.environ,
        PYTHONUNBUFFERED='1',
        OMP_NUM_THREADS='2',
        TORCH_HOME=osp.join(root, 'torch_home'))
    data = osp.join(root, 'data')
    # DOTA as downloaded: train/ and val/ with labels, test/ images alone.
    # Two sparse scenes of 4 patches each: a training step's cost on CPU
    # grows with the objects (rotated IoU of every anchor and box).
    write_dota_scenes(
        osp.join(data, 'DOTA'),
        sizes=((1536, 1280), (1280, 1536)),
        object_rate=0.05)
    shutil.copytree(
        osp.join(data, 'DOTA', 'val', 'images'),
        osp.join(data, 'DOTA', 'test', 'images'))
    subprocess.run([
        sys.executable, 'tools/data/nwpu/make_sample.py',
        osp.join(data, 'NWPU VHR-10 dataset'), '--num-pos', '8', '--num-neg',
        '2'
    ],
                   cwd=root,
                   env=env,
                   check=True,
                   capture_output=True)
    return dict(root=root, env=env)


def run_page(workspace: Dict[str, str]) -> List[str]:
    """Write the page's files and run its commands; the commands run."""
    root, env = workspace['root'], workspace['env']
    with open(DOC) as f:
        blocks = doc_blocks(f.read())
    ran = []
    for block in blocks:
        if block.path is not None:
            path = osp.join(root, block.path)
            os.makedirs(osp.dirname(path), exist_ok=True)
            with open(path, 'w') as f:
                f.write(block.body)
            continue
        if block.lang != 'bash':
            continue
        for cmd in block_commands(block.body):
            configs = [a for a in cmd if a.startswith('configs/')]
            assert all(osp.isfile(osp.join(root, c)) for c in configs), cmd
            if is_multi_gpu(cmd):
                continue
            for arg in cmd:
                if arg.startswith('https://'):
                    zoo_teacher_checkpoint(
                        arg, osp.join(env['TORCH_HOME'], 'hub', 'checkpoints'))
            start = time.time()
            proc = subprocess.run(
                shortened(cmd),
                cwd=root,
                env=env,
                capture_output=True,
                text=True,
                timeout=900)
            output = proc.stdout + proc.stderr
            assert proc.returncode == 0, f'{cmd} failed:\n{output[-6000:]}'
            ran.append(' '.join(cmd))
            print(f'{time.time() - start:6.1f} s  {" ".join(cmd)[:100]}')
            link_last_epoch(osp.join(root, 'work_dirs'))
    return ran


def link_last_epoch(work_dirs: str) -> None:
    """``epoch_12.pth`` beside each ``epoch_1.pth`` of a shortened run."""
    for ckpt in glob.glob(osp.join(work_dirs, '*', 'epoch_1.pth')):
        last = osp.join(osp.dirname(ckpt), EPOCHS)
        if not osp.lexists(last):
            os.symlink('epoch_1.pth', last)


def test_page_lists_commands_and_files():
    with open(DOC) as f:
        blocks = doc_blocks(f.read())
    commands = [
        c for b in blocks if b.lang == 'bash' for c in block_commands(b.body)
    ]
    tools = {c[1] for c in commands if c[0] == 'python'}
    assert {
        'tools/data/dota/split.py', 'tools/train.py', 'tools/test.py',
        'tools/model_converters/extract_student.py',
        'tools/data/dota/merge.py', 'tools/data/nwpu/make_split.py'
    } <= tools
    assert sum(is_multi_gpu(c) for c in commands) == 2
    files = [b.path for b in blocks if b.path]
    assert len(files) == len(set(files)) == 4
    # "About 20 lines": the three files of "Distil your own detector".
    own = sum(
        len(b.body.strip().splitlines()) for b in blocks
        if b.path and b.path.startswith('configs/my/'))
    assert own <= 30


def test_commands_are_shortened_only_as_documented():
    train = shortened([
        'python', 'tools/train.py', 'configs/nwpu/dkd_x.py', '--cfg-options',
        f'model.teacher_ckpt=work_dirs/t/{EPOCHS}'
    ])
    assert train[:5] == [
        sys.executable, 'tools/train.py', 'configs/nwpu/dkd_x.py',
        '--cfg-options', f'model.teacher_ckpt=work_dirs/t/{EPOCHS}'
    ]
    assert train.count('--cfg-options') == 1
    assert 'model.student.backbone.init_cfg=None' in train
    test = shortened(['python', 'tools/test.py', 'c.py', 'w.pth'])
    assert test[4:] == [
        '--cfg-options', 'test_dataloader.dataset.indices=2',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False'
    ]
    assert is_multi_gpu(['bash', 'tools/dist_train.sh', 'c.py', '8'])
    assert not is_multi_gpu(['bash', 'tools/dist_train.sh', 'c.py', '1'])


@pytest.mark.slow
def test_every_command_runs_on_the_samples(workspace):
    ran = run_page(workspace)
    root = workspace['root']
    assert len(ran) >= 15
    work = osp.join(root, 'work_dirs')
    for path in ('rotated-retinanet-le90_r18_dkd_dota.pth',
                 'retinanet_r18_dkd_nwpu.pth', 'Task1/Task1.zip',
                 'dota_test_patches.pkl',
                 f'dkd_atss_r50-r18_fpn_1x_nwpu/{EPOCHS}'):
        assert osp.isfile(osp.join(work, path)), path
    # The split wrote mmrotate's layout for both subsets.
    for subset in ('trainval', 'test'):
        assert os.listdir(
            osp.join(root, 'data', 'split_ss_dota', subset, 'images'))
    # The Task1 files name the original test images, not patches.
    test_ids = {
        osp.splitext(n)[0]
        for n in os.listdir(osp.join(root, 'data', 'DOTA', 'test', 'images'))
    }
    for name in os.listdir(osp.join(work, 'Task1')):
        if name.endswith('.txt'):
            with open(osp.join(work, 'Task1', name)) as f:
                for line in f:
                    assert line.split()[0] in test_ids
