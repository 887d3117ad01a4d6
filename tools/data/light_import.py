"""Import one of dkd_mm's data modules without ``import dkd_mm``.

``import dkd_mm`` registers every component with mmengine (configs rely on
it: ``custom_imports=['dkd_mm']``), which imports torch, mmcv, mmdet and
mmrotate: seconds and hundreds of MiB before a data tool does anything.
The modules the data tools use (:mod:`dkd_mm.datasets.dota_split`,
:mod:`dkd_mm.datasets.labels`) import only numpy, cv2, shapely and the
standard library, so the tools load them with :func:`import_light`::

    sys.path.insert(0, TOOLS_DATA_DIR)  # this file's folder
    from light_import import import_light
    dota_split = import_light('dkd_mm.datasets.dota_split')

Where ``dkd_mm`` is not imported yet, each missing parent package
(``dkd_mm``, ``dkd_mm.datasets``) enters ``sys.modules`` as an empty
package: its spec comes from :func:`importlib.util.find_spec`, which finds
the folder without running the ``__init__.py``.  The import system then
runs the module's own file and what it imports, relative imports included,
under their real names, so pickle (the worker pool) finds them.  Where
``dkd_mm`` is already imported (tests, :mod:`dkd_mm.testing` running a tool
in-process), the module is imported as usual.

The empty packages stay for the life of the process: data tools only.  A
later ``import dkd_mm`` there gets the empty package; reading a name it
lacks (``dkd_mm.register_all_modules``) raises an AttributeError that says
so.
"""
import importlib
import importlib.util
import sys
from types import ModuleType

# Set on the empty parent packages made here.
LIGHT_FLAG = '_light_import_empty_package'


def _missing(package: str):

    def __getattr__(name: str):
        raise AttributeError(
            f'{package!r} was loaded without its __init__.py by '
            f'tools/data/light_import.py (a data tool), so it has no '
            f'{name!r}; import {package} before any import_light call to '
            'get the whole package')

    return __getattr__


def _empty_package(name: str) -> ModuleType:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.submodule_search_locations is None:
        raise ModuleNotFoundError(f'no package {name!r} on sys.path')
    package = importlib.util.module_from_spec(spec)  # not executed
    setattr(package, LIGHT_FLAG, True)
    package.__getattr__ = _missing(name)
    return package


def import_light(name: str) -> ModuleType:
    """Import module ``name`` without running its packages' ``__init__``.

    Args:
        name (str): Dotted module name, e.g.
            ``'dkd_mm.datasets.dota_split'``.

    Returns:
        ModuleType: The module, as ``importlib.import_module`` returns it.
    """
    parts = name.split('.')
    top = sys.modules.get(parts[0])
    if top is None or getattr(top, LIGHT_FLAG, False):
        for i in range(1, len(parts)):
            package = '.'.join(parts[:i])
            if package in sys.modules:
                continue
            # find_spec of a dotted name imports its parent: made above.
            sys.modules[package] = _empty_package(package)
            if i > 1:
                setattr(sys.modules['.'.join(parts[:i - 1])], parts[i - 1],
                        sys.modules[package])
    return importlib.import_module(name)
