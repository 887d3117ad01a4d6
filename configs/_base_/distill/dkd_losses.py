# DKD's distillation losses (GD + ISD) alone, without the teacher hook, for
# a config whose student base brings its own `custom_hooks` (mmengine
# forbids duplicate keys among bases; RTMDet-R's runtime has EMA): it then
# adds the teacher hook itself.  Every other config takes ./dkd.py.
dkd_distill_losses = dict(
    loss_global_distill=dict(type='DynamicGlobalDistillLoss'),
    loss_isd=dict(type='InstanceSelectionDistillLoss'))
