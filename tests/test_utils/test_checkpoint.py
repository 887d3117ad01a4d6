"""Teacher checkpoints from a local file or an http(s) URL, as untrusted input.

URLs are served by a real HTTP server on 127.0.0.1, and downloads go to a
``TORCH_HOME`` under the test's tmp dir; nothing leaves the machine.
"""
import hashlib
import os
import os.path as osp
import pickle
import shutil
import socket
import threading
from collections import Counter
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
import torch
import torch.hub
from mmengine.config import Config

import dkd_mm  # noqa: F401
from dkd_mm.distillers import DKDDistiller
from dkd_mm.registry import MODELS
from dkd_mm.testing import get_model_cfg
from dkd_mm.testing._utils import REPO_ROOT
from dkd_mm.utils.checkpoint import (CheckpointDownloadError,
                                     UnsafeCheckpointError, checkpoint_file,
                                     load_checkpoint_safely)

DKD_CONFIG = osp.join(REPO_ROOT, 'configs', 'rotated_retinanet',
                      'dkd_rotated-retinanet_r50-r18_synthetic.py')
ZOO_NAME = 'rotated-retinanet_r50_fpn_synthetic-0123abcd.pth'


@pytest.fixture
def torch_home(tmp_path, monkeypatch) -> str:
    """An empty download cache: ``$TORCH_HOME/hub/checkpoints``."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.setattr(torch.hub, '_hub_dir', None)
    return str(tmp_path / 'torch_home' / 'hub' / 'checkpoints')


@pytest.fixture
def server(tmp_path, monkeypatch):
    """Serves ``root`` on 127.0.0.1 and counts the GET requests per path."""
    root = tmp_path / 'www'
    root.mkdir()
    requests = Counter()

    class Handler(SimpleHTTPRequestHandler):

        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def do_GET(self):
            requests[self.path] += 1
            super().do_GET()

        def log_message(self, *args):
            pass

    # A proxy from the environment must not see the local requests.
    monkeypatch.setenv('no_proxy', '127.0.0.1')
    monkeypatch.setenv('NO_PROXY', '127.0.0.1')
    httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    thread = threading.Thread(
        target=httpd.serve_forever, args=(0.05, ), daemon=True)
    thread.start()
    base = f'http://127.0.0.1:{httpd.server_address[1]}'
    yield SimpleNamespace(
        root=root, url=lambda name: f'{base}/{name}', requests=requests)
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture(scope='module')
def zoo_ckpt(tmp_path_factory) -> str:
    """A teacher checkpoint as mmrotate's model zoo publishes one: the
    detector's own ``state_dict`` keys and a plain ``meta``."""
    cfg = Config.fromfile(DKD_CONFIG)
    torch.manual_seed(0)
    teacher = MODELS.build(get_model_cfg(cfg.model.teacher))
    metainfo = cfg.train_dataloader.dataset.metainfo
    meta = dict(
        dataset_meta=dict(metainfo),
        CLASSES=tuple(metainfo['classes']),
        mmengine_version='0.10.7',
        config=f'model = dict(teacher={cfg.model.teacher!r})',
        epoch=12,
        iter=7000)
    path = str(tmp_path_factory.mktemp('zoo') / ZOO_NAME)
    torch.save({'state_dict': teacher.state_dict(), 'meta': meta}, path)
    return path


class _RunsCode:
    """Unpickling this runs ``exec``: it creates ``marker``."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f'open({self.marker!r}, "w").close()', ))


def _publish(server, src: str, name: str) -> str:
    shutil.copy(src, server.root / name)
    return server.url(name)


def _assert_same_tensors(actual: dict, expected: dict) -> None:
    assert actual.keys() == expected.keys()
    for key, value in expected.items():
        assert torch.equal(actual[key], value), key


def test_url_downloads_once_into_torch_home(server, torch_home, zoo_ckpt):
    url = _publish(server, zoo_ckpt, ZOO_NAME)
    cached = osp.join(torch_home, ZOO_NAME)
    assert checkpoint_file(url) == cached
    expected = torch.load(zoo_ckpt, weights_only=True)

    ckpt = load_checkpoint_safely(url)
    assert server.requests['/' + ZOO_NAME] == 1
    assert osp.isfile(cached)
    _assert_same_tensors(ckpt['state_dict'], expected['state_dict'])
    assert ckpt['meta'] == expected['meta']

    # Loaded again, the cached file is used: no second request.
    ckpt = load_checkpoint_safely(url)
    assert server.requests['/' + ZOO_NAME] == 1
    _assert_same_tensors(ckpt['state_dict'], expected['state_dict'])


@pytest.mark.parametrize('writer', ['pickle', 'torch.save'])
def test_url_pickle_that_runs_code_is_refused(server, torch_home, tmp_path,
                                              writer):
    # The payload is live: plain unpickling runs it.
    control = str(tmp_path / 'control')
    pickle.loads(pickle.dumps(_RunsCode(control)))
    assert osp.exists(control)

    marker = str(tmp_path / 'payload_ran')
    evil = {'state_dict': {'w': torch.zeros(1)}, 'meta': _RunsCode(marker)}
    path = str(tmp_path / 'evil.pth')
    if writer == 'pickle':
        with open(path, 'wb') as f:
            pickle.dump(evil, f, protocol=2)
    else:
        torch.save(evil, path)
    url = _publish(server, path, 'evil.pth')
    with pytest.raises(UnsafeCheckpointError) as info:
        load_checkpoint_safely(url)
    message = str(info.value)
    assert 'refusing to load' in message
    assert url in message and osp.join(torch_home, 'evil.pth') in message
    assert not osp.exists(marker)
    assert server.requests['/evil.pth'] == 1


def test_distiller_refuses_code_running_teacher_url(server, torch_home,
                                                    tmp_path):
    marker = str(tmp_path / 'payload_ran')
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {}, 'meta': _RunsCode(marker)}, path)
    cfg = Config.fromfile(DKD_CONFIG)
    cfg.model.teacher_ckpt = _publish(server, path, 'evil.pth')
    with pytest.raises(UnsafeCheckpointError, match='refusing'):
        MODELS.build(cfg.model)
    assert not osp.exists(marker)


@pytest.mark.parametrize('source', ['file', 'url'])
def test_zoo_checkpoint_loads_into_dkd_teacher(server, torch_home, zoo_ckpt,
                                               source):
    cfg = Config.fromfile(DKD_CONFIG)
    url = _publish(server, zoo_ckpt, ZOO_NAME)
    cfg.model.teacher_ckpt = zoo_ckpt if source == 'file' else url
    model = MODELS.build(cfg.model)
    assert isinstance(model, DKDDistiller)

    expected = torch.load(zoo_ckpt, weights_only=True)['state_dict']
    _assert_same_tensors(model.teacher.state_dict(), expected)
    assert not any(p.requires_grad for p in model.teacher.parameters())
    # The local file the weights came from, for the teacher hook's sha256.
    local = zoo_ckpt if source == 'file' else osp.join(torch_home, ZOO_NAME)
    assert model.teacher_ckpt == local
    assert server.requests['/' + ZOO_NAME] == (source == 'url')


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    return f'http://127.0.0.1:{port}/teacher.pth'


@pytest.mark.parametrize('where', ['missing file', 'closed port'])
def test_failed_download_names_url_and_cache(server, torch_home, where):
    url = server.url('teacher.pth') if where == 'missing file' else (
        _closed_port_url())
    with pytest.raises(CheckpointDownloadError) as info:
        load_checkpoint_safely(url)
    message = str(info.value)
    assert url in message
    assert osp.join(torch_home, 'teacher.pth') in message
    # A failed download leaves nothing behind, not even a partial file.
    assert os.listdir(torch_home) == []


def test_check_hash_of_zoo_style_names(server, torch_home, tmp_path):
    path = str(tmp_path / 'teacher.pth')
    torch.save({'state_dict': {'w': torch.arange(4.)}}, path)
    with open(path, 'rb') as f:
        sha256 = hashlib.sha256(f.read()).hexdigest()
    good = _publish(server, path, f'teacher-{sha256[:8]}.pth')
    ckpt = load_checkpoint_safely(good, check_hash=True)
    assert torch.equal(ckpt['state_dict']['w'], torch.arange(4.))

    wrong_hash = '0' * 8 if not sha256.startswith('0' * 8) else '1' * 8
    bad = _publish(server, path, f'teacher-{wrong_hash}.pth')
    with pytest.raises(CheckpointDownloadError, match='invalid hash'):
        load_checkpoint_safely(bad, check_hash=True)
    assert not osp.exists(checkpoint_file(bad))

    unnamed = _publish(server, path, 'teacher.pth')
    with pytest.raises(ValueError, match='no sha256 prefix'):
        load_checkpoint_safely(unnamed, check_hash=True)
    assert server.requests['/teacher.pth'] == 0


def test_other_schemes_and_bare_urls_are_refused():
    with pytest.raises(ValueError, match=r'http\(s\)'):
        load_checkpoint_safely('s3://bucket/teacher.pth')
    with pytest.raises(ValueError, match='names no file'):
        load_checkpoint_safely('https://download.openmmlab.com/')
