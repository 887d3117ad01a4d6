# The loader settings every data base of the project shares (mmdet's: two
# workers kept alive between epochs, the default sampler, shuffled for
# training only), each data base adding its batch size and dataset.
# `_delete_`: a data base's loaders replace an upstream config's whole.
train_loader_defaults = dict(
    _delete_=True,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True))
val_loader_defaults = dict(
    _delete_=True,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False))
