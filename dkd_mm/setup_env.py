"""Registration of every module dkd_mm needs, mmdet's and mmrotate's too.

At the top of the package, beside ``registry.py``, rather than in
``utils/`` as mmrotate has it: it imports the components, and they import
``dkd_mm.utils``.
"""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import mmdet, mmrotate and dkd_mm modules so that they register.

    Args:
        init_default_scope (bool): Whether to make ``dkd_mm`` the default
            scope, so that plain names resolve in dkd_mm then mmrotate.
            Defaults to True.
    """
    import mmdet.datasets  # noqa: F401
    import mmdet.engine  # noqa: F401
    import mmdet.evaluation  # noqa: F401
    import mmdet.models  # noqa: F401
    import mmdet.visualization  # noqa: F401
    import mmrotate.datasets  # noqa: F401
    import mmrotate.evaluation  # noqa: F401
    import mmrotate.models  # noqa: F401
    import mmrotate.visualization  # noqa: F401

    import dkd_mm.datasets  # noqa: F401
    import dkd_mm.distillers  # noqa: F401
    import dkd_mm.engine  # noqa: F401
    import dkd_mm.hooks  # noqa: F401
    import dkd_mm.losses  # noqa: F401

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None or not DefaultScope.check_instance_created('dkd_mm'):
        DefaultScope.get_instance('dkd_mm', scope_name='dkd_mm')
    elif current.scope_name != 'dkd_mm':
        warnings.warn(f'The current default scope "{current.scope_name}" is '
                      'not "dkd_mm"; register_all_modules makes it "dkd_mm".')
        DefaultScope.get_instance(
            f'dkd_mm-{datetime.datetime.now()}', scope_name='dkd_mm')
