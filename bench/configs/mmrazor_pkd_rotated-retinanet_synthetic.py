# mmrazor 1.0.0's own PKD distillation (FpnTeacherDistill +
# ConfigurableDistiller + PKDLoss) on the benchmark's rotated RetinaNet pair,
# for the side-by-side row of bench/run.py.  Same student, teacher, data and
# schedule as dkd_mm's PKD row (configs/rotated_retinanet/pkd_...): PKD
# weight 10 summed over the 5 FPN levels, the student's 64-channel levels
# mapped to the teacher's 128 by a 1x1 convolution each (dkd_mm's adapters).
# Benchmark only: needs mmrazor (`pip install -e .[bench]`), and
# `bench.mmrazor_plugin` (it applies bench/mmrazor_shim.py before importing
# mmrazor) importable: bench is not installed, so run from the repository
# root as a module (bench/runs.py trains it with `python -m tools.train`).
import mmengine.config  # a module: not kept among the config's fields

_base_ = [
    '../../configs/rotated_retinanet/rotated-retinanet_r18_fpn_synthetic.py'
]
custom_imports = dict(
    imports=['dkd_mm', 'bench.mmrazor_plugin'], allow_failed_imports=False)

student_config = ('configs/rotated_retinanet/'
                  'rotated-retinanet_r18_fpn_synthetic.py')
teacher_config = 'bench/configs/teacher_r18-w128.py'
teacher_ckpt = 'work_dirs/bench/teacher_s0/teacher.pth'
levels = 5

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='FpnTeacherDistill',
    # Built in mmrotate's scope, as the detectors' own configs are.
    architecture=dict(
        mmengine.config.Config.fromfile(student_config).model,
        _scope_='mmrotate'),
    teacher=dict(
        mmengine.config.Config.fromfile(teacher_config).model,
        _scope_='mmrotate'),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        connectors={
            f'fpn{i}':
            dict(
                type='ConvModuleConnector',
                in_channel=64,
                out_channel=128,
                kernel_size=1,
                norm_cfg=None,
                act_cfg=None)
            for i in range(levels)
        },
        distill_losses={
            f'loss_pkd_fpn{i}': dict(type='PKDLoss', loss_weight=10.0)
            for i in range(levels)
        },
        loss_forward_mappings={
            f'loss_pkd_fpn{i}':
            dict(
                preds_S=dict(
                    from_student=True,
                    recorder='fpn',
                    data_idx=i,
                    connector=f'fpn{i}'),
                preds_T=dict(from_student=False, recorder='fpn', data_idx=i))
            for i in range(levels)
        }))
find_unused_parameters = True
