# The teacher hook of every distillation config of the project, DKD and the
# baselines alike, so that every method of a table gets the same warm-up:
# its distillation terms ramp up linearly over the first 50 iterations (set
# `warmup_iters` to the schedule's learning-rate warm-up), and it checks
# that the teacher is loaded and frozen.
custom_hooks = [
    dict(type='dkd_mm.DKDTeacherHook', status_mode='iter', warmup_iters=50)
]
