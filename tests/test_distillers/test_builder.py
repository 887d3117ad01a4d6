"""dkd_mm.distillers.builder: a distiller config's detectors and the
loading of a detector's weights from a distiller's or its own checkpoint."""
import pytest
import torch
from mmengine.config import Config
from torch import nn

from dkd_mm.distillers.builder import detector_configs, load_detector_weights


def test_student_takes_the_distillers_data_preprocessor():
    cfg = Config(
        dict(
            default_scope='mmrotate',
            model=dict(
                type='dkd_mm.DKDDistiller',
                student=dict(type='S', data_preprocessor=dict(type='A')),
                teacher=dict(type='T'),
                data_preprocessor=dict(type='B'))))
    (role, student, scope), (_, teacher, _) = detector_configs(cfg)
    assert (role, scope) == ('student', 'mmrotate')
    assert student.data_preprocessor == dict(type='B')  # as the distiller
    assert 'data_preprocessor' not in teacher
    plain = Config(dict(model=dict(type='S')))
    assert detector_configs(plain) == [('model', plain.model, None)]


def test_detector_weights_from_a_distiller_or_its_own_checkpoint(tmp_path):
    source = nn.Linear(2, 3)
    meta = dict(dataset_meta=dict(classes=('a', 'b', 'c')))
    distiller = {f'student.{k}': v for k, v in source.state_dict().items()}
    distiller['adapters.0.weight'] = torch.ones(1)  # not the detector's
    torch.save(dict(state_dict=distiller, meta=meta), tmp_path / 'dkd.pth')
    torch.save(source.state_dict(), tmp_path / 'plain.pth')  # no meta
    for name, expected in (('dkd.pth', meta), ('plain.pth', {})):
        detector = nn.Linear(2, 3)
        assert load_detector_weights(detector,
                                     str(tmp_path / name)) == expected
        assert torch.equal(detector.weight, source.weight)
    with pytest.raises(
            ValueError,
            match='student checkpoint .* does not '
            'match the student config: missing keys'):
        load_detector_weights(
            nn.Sequential(nn.Linear(2, 3)), str(tmp_path / 'plain.pth'),
            'student')
