# Teacher: mmrotate's rotated RetinaNet (le90, ResNet-50, 1x) on DOTA v1.0,
# unchanged (mmrotate's data pipeline on data/split_ss_dota/), to train or
# evaluate it with this project's tools; the DKD configs take its `model` from
# the same upstream file.
#   python tools/train.py \
#       configs/dota/rotated-retinanet-le90_r50_fpn_1x_dota.py
#   python tools/test.py \
#       configs/dota/rotated-retinanet-le90_r50_fpn_1x_dota.py CKPT
# CKPT: a local file or the model-zoo URL of the DKD config's teacher_ckpt.
_base_ = ('mmrotate::rotated_retinanet/'
          'rotated-retinanet-rbox-le90_r50_fpn_1x_dota.py')
custom_imports = dict(imports=['dkd_mm'], allow_failed_imports=False)
