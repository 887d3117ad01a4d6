from ._utils import demo_batch, get_model_cfg

__all__ = ['demo_batch', 'get_model_cfg']
