# The teacher hook of every distillation config of the project, DKD and the
# baselines alike, so that every method of a table gets the same warm-up:
# its distillation terms ramp up linearly over the first 50 iterations, and
# it checks that the teacher is loaded and frozen.  A config lists it in its
# `custom_hooks` (./dkd.py does), and one whose schedule warms its learning
# rate up over another number of iterations sets that warm-up:
#
#   custom_hooks = [dict(_base_.dkd_hook, warmup_iters=500)]
#
# `dkd_hook` is read when a config is parsed: on the command line, change
# the listed hook (`--cfg-options custom_hooks.0.warmup_iters=N`).
dkd_hook = dict(
    type='dkd_mm.DKDTeacherHook', status_mode='iter', warmup_iters=50)
