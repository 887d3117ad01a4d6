"""bench/per_class_ap.py on horizontal boxes: mmdet's VOC mAP (area mode,
as the NWPU VHR-10 configs set it) from a tools/test.py ``--out`` pickle."""
import os.path as osp
import pickle

import pytest
import torch

from bench.per_class_ap import map_function, per_class_ap
from bench.runs import ROOT

NWPU_CONFIG = osp.join(ROOT, 'configs/nwpu/retinanet_r18_fpn_scratch_nwpu.py')
# NWPU VHR-10's class indices.
AIRPLANE, SHIP, VEHICLE = 0, 1, 9


def image(gt_boxes, gt_labels, boxes, scores, labels) -> dict:
    """One image as tools/test.py --out (mmengine's DumpResults) dumps it:
    the data sample's dict, tensors on the CPU."""
    return dict(
        img_id='x',
        gt_instances=dict(
            bboxes=torch.tensor(gt_boxes, dtype=torch.float32).reshape(-1, 4),
            labels=torch.tensor(gt_labels)),
        ignored_instances=dict(
            bboxes=torch.zeros(0, 4), labels=torch.zeros(0, dtype=torch.long)),
        pred_instances=dict(
            bboxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
            scores=torch.tensor(scores),
            labels=torch.tensor(labels)))


@pytest.fixture
def preds(tmp_path) -> str:
    # Image 1: a ship found exactly; a vehicle found shifted by 4 px
    # (IoU with VOC's +1 widths: 13 x 15 / (2 * 13 * 19 - 13 x 15) =
    # 195 / 299 = 0.65, a hit at 0.5, a miss at 0.75); an airplane where no
    # image has one.  Image 2: a ship missed, a higher-scored ship box in the
    # wrong place.
    results = [
        image([[10, 10, 50, 24], [100, 100, 112, 118]], [SHIP, VEHICLE],
              [[10, 10, 50, 24], [100, 104, 112, 122], [150, 150, 180, 180]],
              [0.9, 0.8, 0.8], [SHIP, VEHICLE, AIRPLANE]),
        image([[30, 30, 70, 44]], [SHIP], [[120, 120, 160, 134]], [0.95],
              [SHIP]),
    ]
    path = str(tmp_path / 'preds.pkl')
    with open(path, 'wb') as f:
        pickle.dump(results, f)
    return path


def test_horizontal_ap_by_class_and_threshold(preds):
    ap = per_class_ap(NWPU_CONFIG, preds)
    # Ship: detections by score FP (0.95), TP (0.9) of 2 objects, at both
    # thresholds: recall 0, 0.5, precision 0, 0.5; the area under the
    # precision envelope is 0.5 * 0.5 = 0.25 (11 points would give
    # 6 * 0.5 / 11 = 0.273).
    assert ap['ship'] == pytest.approx(0.25)
    assert ap['vehicle'] == pytest.approx(1.0)  # its one object, found
    assert ap['airplane'] == 0  # no object: left out of the mean
    # Over the classes with objects, ship and vehicle: 0.5 (0.25 + 1) and
    # 0.5 (0.25 + 0), the vehicle missed at 0.75.
    assert ap['mAP50'] == pytest.approx(0.625)
    assert ap['mAP75'] == pytest.approx(0.125)
    assert ap['mAP'] == pytest.approx(0.375)


def test_horizontal_map_equals_the_configs_own_metric(preds):
    # The means are those of the config's metric (mmdet's VOCMetric in area
    # mode, its val_evaluator; bench/data.py tests with it) run on the same
    # predictions.
    from mmdet.registry import METRICS
    from mmengine.config import Config
    from mmengine.fileio import load

    from dkd_mm.registry import DATASETS
    cfg = Config.fromfile(NWPU_CONFIG)
    assert cfg.val_evaluator.eval_mode == 'area'
    metric = METRICS.build(dict(cfg.val_evaluator, iou_thrs=[0.5, 0.75]))
    metric.dataset_meta = DATASETS.get(
        cfg.test_dataloader.dataset.type).METAINFO
    metric.process({}, load(preds))
    voc = metric.compute_metrics(metric.results)
    ap = per_class_ap(NWPU_CONFIG, preds)
    assert voc['AP50'] == pytest.approx(ap['mAP50'], abs=5e-4)
    assert voc['AP75'] == pytest.approx(ap['mAP75'], abs=5e-4)


def test_unknown_metric_is_refused():
    with pytest.raises(ValueError, match='CocoMetric'):
        map_function(dict(type='mmdet.CocoMetric'))
