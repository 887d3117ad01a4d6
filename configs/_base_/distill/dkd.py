# DKD's distillation (GD + ISD, ./dkd_losses.py) and the teacher hook
# (./teacher_hook.py), for a config that inherits its student's config and
# this file.  The student's TSA box loss is the student config's
# (`*_tsa_*.py`); the leaf names the rest:
#
#   _base_ = ['./<student>_tsa_<data>.py', '../_base_/distill/dkd.py']
#   teacher_ckpt = 'work_dirs/<teacher>/iter_600.pth'  # what training writes
#   model = dict(
#       _delete_=True,
#       type='dkd_mm.DKDDistiller',
#       student={{_base_.model}},
#       teacher='{{fileDirname}}/<teacher>.py',
#       teacher_ckpt=teacher_ckpt,
#       distill_losses={{_base_.dkd_distill_losses}})
#
# The `dkd_` prefix keeps the name apart from the student config's (mmengine
# forbids duplicate keys among bases).
_base_ = ['./teacher_hook.py', './dkd_losses.py']
