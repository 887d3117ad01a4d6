"""Evaluate a distiller's teacher with the run's own val dataloader."""
from mmengine.utils import ProgressBar
from torch import nn


def evaluate_teacher(runner, model: nn.Module) -> dict:
    """The teacher's metrics on ``runner.val_dataloader``.

    The batches go through the distiller's data preprocessor (the teacher
    sees what the student sees) and the run's ``val_evaluator``.

    Returns:
        dict: The evaluator's metrics.
    """
    loader = runner.val_dataloader
    evaluator = runner.val_evaluator
    progress = ProgressBar(len(loader))
    for data_batch in loader:
        data = model.data_preprocessor(data_batch, False)
        outputs = model.teacher.predict(data['inputs'], data['data_samples'])
        evaluator.process(data_samples=outputs, data_batch=data_batch)
        progress.update()
    return evaluator.evaluate(len(loader.dataset))
