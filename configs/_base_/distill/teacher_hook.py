# The teacher hook of every distillation config of the project, DKD and the
# baselines alike, so that every method of a table gets the same warm-up:
# its distillation terms ramp up linearly over the schedule's own
# learning-rate warm-up (`warmup_iters='lr'`: 50 iterations on the synthetic
# schedule, 500 in a 1x, 1000 in RTMDet-R's 3x, read from the built
# schedule), and it checks that the teacher is loaded and frozen.  A config
# lists it in its `custom_hooks` (./dkd.py does).  `dkd_hook` is read when a
# config is parsed: on the command line, change the listed hook
# (`--cfg-options custom_hooks.0.warmup_iters=N`).
dkd_hook = dict(
    type='dkd_mm.DKDTeacherHook', status_mode='iter', warmup_iters='lr')
