# The base of a DKD config: DKD's distiller (GD + ISD, ./dkd_model.py) and
# the teacher hook (./teacher_hook.py) as the only custom hook.  The
# student's TSA box loss is the student config's (`*_tsa_*.py`).  A DKD
# config inherits its student's config and this file and names the rest:
#
#   _base_ = ['./<student>_tsa_<data>.py', '../_base_/distill/dkd.py']
#   model = dict(
#       _base_.dkd_model,
#       student=_base_.model,
#       teacher='{{fileDirname}}/<teacher>.py',  # or 'mmrotate::...'
#       teacher_ckpt='work_dirs/<teacher>/iter_600.pth')  # what training
#                                                         # writes, or a URL
#
# tests/test_configs/test_config_tree.py keeps such a config within 10
# lines of code.
_base_ = ['./dkd_model.py']

custom_hooks = [_base_.dkd_hook]
