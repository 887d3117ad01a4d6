"""bench/nms_1024.py: labelled mosaics, their evaluation, the report's
place in docs/benchmarks.md, and a --quick run end to end."""
import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData
from mmrotate.structures import RotatedBoxes

from bench.cost_common import load_config
from bench.mosaic_eval import evaluate, labelled_mosaics, tile_boxes
from bench.nms_1024 import MARKER, main
from bench.report import write_after
from bench.runs import TEACHER

SIDE = 64
# Per tile: one box (cx, cy, w, h, angle), or none for tile 5.
BOXES = [[(8 + 6 * i, 50 - 5 * i, 12, 6, 0.1 * i)] for i in range(8)]
BOXES[5] = []


def test_tile_boxes_moves_by_the_tile_origin():
    box = torch.tensor([[10.0, 20.0, 8.0, 4.0, 0.3]])
    # Row 1, column 2 of 64 px tiles: origin (x, y) = (128, 64).
    assert torch.allclose(
        tile_boxes(box, 1, 2, 64), torch.tensor([[138.0, 84.0, 8, 4, 0.3]]))
    # Then the grid resized to half: centre and size halve, angle stays.
    assert torch.allclose(
        tile_boxes(box, 1, 2, 64, 0.5), torch.tensor([[69.0, 42, 4, 2, 0.3]]))
    with pytest.raises(ValueError, match='rotated'):
        tile_boxes(torch.zeros(1, 4), 0, 0, 64)


def _instances(boxes: list, label: int) -> InstanceData:
    return InstanceData(
        bboxes=RotatedBoxes(torch.tensor(boxes).reshape(-1, 5)),
        labels=torch.full((len(boxes), ), label, dtype=torch.long))


def _data() -> list:
    """Two preprocessed batches of four 64 px tiles; tile i is dark but for
    the pixel at its box's centre, of value i + 1."""
    data = []
    for first in (0, 4):
        images, samples = [], []
        for i in range(first, first + 4):
            image = torch.zeros(3, SIDE, SIDE)
            for cx, cy, *_ in BOXES[i]:
                image[:, int(cy), int(cx)] = i + 1
            images.append(image)
            sample = DetDataSample(
                metainfo=dict(img_id=i, img_shape=(SIDE, SIDE)))
            sample.gt_instances = _instances(BOXES[i], i % 5)
            sample.ignored_instances = _instances([], 0)
            samples.append(sample)
        data.append(dict(inputs=torch.stack(images), data_samples=samples))
    return data


def test_mosaic_labels_sit_on_their_tiles_pixels():
    out = labelled_mosaics(_data(), 2 * SIDE)
    assert len(out) == 2  # 8 tiles: two 2 x 2 mosaics
    for k, (image, sample) in enumerate(out):
        assert image.shape == (1, 3, 2 * SIDE, 2 * SIDE)
        tiles = range(4 * k, 4 * k + 4)
        boxes = sample.gt_instances.bboxes.tensor
        assert len(boxes) == sum(len(BOXES[i]) for i in tiles)
        assert sample.gt_instances.labels.tolist() == [
            i % 5 for i in tiles if BOXES[i]
        ]
        assert len(sample.ignored_instances) == 0
        # The mosaic's pixel under each moved centre is that tile's mark.
        marks = [i + 1 for i in tiles if BOXES[i]]
        for (cx, cy, *_), mark in zip(boxes.tolist(), marks):
            assert image[0, 0, int(cy), int(cx)] == mark
        assert image.count_nonzero() == 3 * len(marks)
    # A mosaic of another side: its grid resized, the boxes scaled alike.
    small = labelled_mosaics(_data(), 96)[0][1].gt_instances.bboxes.tensor
    full = out[0][1].gt_instances.bboxes.tensor
    assert torch.allclose(small[:, :4], full[:, :4] * 0.75)
    assert torch.equal(small[:, 4], full[:, 4])
    with pytest.raises(ValueError, match='no 4 x 4 mosaic'):
        labelled_mosaics(_data(), 4 * SIDE)


def test_the_dota_metric_scores_the_mosaic_labels():
    evaluator = load_config(TEACHER).test_evaluator  # mmrotate's DOTAMetric
    classes = [f'c{i}' for i in range(5)]
    samples = [sample for _, sample in labelled_mosaics(_data(), 2 * SIDE)]
    for sample in samples:  # predictions: the labels themselves
        gt = sample.gt_instances
        sample.pred_instances = InstanceData(
            bboxes=gt.bboxes.clone(),
            labels=gt.labels,
            scores=torch.ones(len(gt)))
    assert evaluate(samples, evaluator, classes) == dict(mAP50=1, mAP75=1)
    # Boxes left where they were in their tile: only the top left tiles'
    # (0, and 4 of class 4) still match, so classes 0 and 4 have AP 1,
    # classes 1-3 AP 0 (11-point AP, mean over the 5 classes with labels).
    for k, sample in enumerate(samples):
        tiles = [i for i in range(4 * k, 4 * k + 4) if BOXES[i]]
        sample.pred_instances.bboxes = RotatedBoxes(
            torch.tensor([BOXES[i][0] for i in tiles]))
    assert evaluate(samples, evaluator, classes) == dict(mAP50=0.4, mAP75=0.4)


def test_the_section_goes_after_the_reading_notes(tmp_path):
    path = tmp_path / 'bench.md'
    path.write_text('# B\n\n### Reading the per-family cost tables\n\n- a\n'
                    '- b\n\n## mmrazor side by side\n\ntext\n')
    after = '### Reading the per-family cost tables'
    write_after(str(path), MARKER, 'first', after)
    write_after(str(path), MARKER, 'second', after)
    text = path.read_text()
    assert text.count(MARKER) == 2 and 'first' not in text
    assert text.index('- b') < text.index('second') < text.index('## mm')
    assert f'- b\n\n{MARKER}\nsecond\n{MARKER}\n\n## mmrazor' in text


@pytest.mark.slow
def test_quick_run_tables_each_model_and_setting():
    out = main(['--quick', '--nms-pre', '300'])
    rows = [[c.strip() for c in line.strip('|').split('|')]
            for line in out.splitlines()
            if line.startswith('| teacher') or line.startswith('| student')]
    # Two models x (config's nms_pre, 300) x (mosaics, images).
    assert [r[:3] for r in rows] == [[m, inputs, nms]
                                     for inputs in ('512 px mosaics (1)',
                                                    '256 px images (4)')
                                     for m in ('teacher', 'student')
                                     for nms in ('1000 (config)', '300')]
    for row in rows:
        assert 0 <= float(row[3]) <= 1 and 0 <= float(row[4]) <= 1
        assert float(row[5]) >= float(row[6]) > 0  # all >= post-processing
    assert '(weights `random`)' in out
