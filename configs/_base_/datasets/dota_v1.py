# DOTA v1.0 split into 1024 px patches (mmrotate's single-scale split:
# data/split_ss_dota/{trainval,test}/{images,annfiles}), read by dkd_mm's
# RobustDOTADataset: mmrotate's configs/_base_/datasets/dota.py with the
# loader that skips and reports bad labels and images instead of crashing
# (on_bad_label='error' to stop at the first), and each image's size read
# from its header.  Types carry their scope, so the file works under
# default_scope 'mmrotate' or 'dkd_mm'.  As upstream, validation uses
# trainval (DOTA's test labels are withheld); `submission_dataloader` and
# `submission_evaluator` write the Task1 files for the evaluation server.
#
# The settings are written once, in dota_v1_prefixed.py, under `dota_` names
# (for a config that inherits an upstream mmrotate config beside them); this
# file gives them mmrotate's plain names, for a config without other data.
_base_ = './dota_v1_prefixed.py'


def _alone(cfg: dict) -> dict:
    # `_delete_` only acts on a base's dict of the same name; there is none.
    return {k: v for k, v in cfg.items() if k != '_delete_'}


dataset_type = _base_.dota_dataset_type
data_root = _base_.dota_data_root
backend_args = _base_.dota_backend_args

train_pipeline = _base_.dota_train_pipeline
val_pipeline = _base_.dota_val_pipeline
test_pipeline = _base_.dota_test_pipeline
train_dataloader = _alone(_base_.dota_train_dataloader)
val_dataloader = _alone(_base_.dota_val_dataloader)
test_dataloader = val_dataloader

val_evaluator = _alone(_base_.dota_val_evaluator)
test_evaluator = val_evaluator

# For the server: `test_dataloader = {{_base_.submission_dataloader}}` and
# `test_evaluator = {{_base_.submission_evaluator}}` in a child config.
submission_dataloader = _alone(_base_.dota_submission_dataloader)
submission_evaluator = _alone(_base_.dota_submission_evaluator)
