# DKD's distiller: its distillation losses (GD + ISD) and `dkd_model`, the
# distiller a DKD config completes with its student, its teacher and the
# teacher's checkpoint (`_delete_` drops the student config's detector from
# `model`).  The teacher hook (`dkd_hook`, ./teacher_hook.py) comes along
# but is not listed in `custom_hooks`: take this file, not ./dkd.py, where
# the student base brings its own hooks (mmengine forbids duplicate keys
# among bases; RTMDet-R's runtime has EMA), and list both:
#
#   custom_hooks = _base_.custom_hooks + [dict(_base_.dkd_hook, ...)]
#
# The `dkd_` prefix keeps the names apart from the student config's.
_base_ = ['./teacher_hook.py']

dkd_distill_losses = dict(
    loss_global_distill=dict(type='DynamicGlobalDistillLoss'),
    loss_isd=dict(type='InstanceSelectionDistillLoss'))
dkd_model = dict(
    _delete_=True,
    type='dkd_mm.DKDDistiller',
    distill_losses=dkd_distill_losses)
