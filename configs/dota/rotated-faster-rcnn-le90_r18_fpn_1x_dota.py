# Student: mmrotate's rotated Faster R-CNN (le90, 1x) on ResNet-18, on DOTA
# v1.0 split into 1024 px patches (`python tools/data/dota/split.py
# --base-json tools/data/dota/split_configs/ss_trainval.json`).  Upstream's
# config with only these changes:
#   - ResNet-18 from torchvision's ImageNet weights (upstream starts its
#     ResNet-50 from torchvision's), and the neck's in_channels to match;
#   - dkd_mm's DOTA loaders (_base_/datasets/dota_v1_prefixed.py: upstream's
#     data and pipelines, a loader that reports bad labels).  DOTA v1.5: swap
#     in dota_v15_prefixed.py and set `num_classes=16`.
# Schedule, optimizer and batch size are upstream's: 12 epochs, SGD at lr
# 0.005 for 2 images (1 GPU x 2), 500 warm-up iterations, steps at epochs 8
# and 11.  With N GPUs x B images, scale the lr linearly (lr x N*B / 2):
# `tools/train.py --auto-scale-lr` does it from `auto_scale_lr` below.
_base_ = [
    'mmrotate::rotated_faster_rcnn/rotated-faster-rcnn-le90_r50_fpn_1x_dota.py',  # noqa: E501
    '../_base_/datasets/dota_v1_prefixed.py',
]
custom_imports = dict(imports=['dkd_mm'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        depth=18, init_cfg=dict(checkpoint='torchvision://resnet18')),
    neck=dict(in_channels=[64, 128, 256, 512]))

train_dataloader = {{_base_.dota_train_dataloader}}
val_dataloader = {{_base_.dota_val_dataloader}}
test_dataloader = {{_base_.dota_test_dataloader}}
val_evaluator = {{_base_.dota_val_evaluator}}
test_evaluator = {{_base_.dota_test_evaluator}}

auto_scale_lr = dict(enable=False, base_batch_size=2)
