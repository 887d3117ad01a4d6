"""``custom_imports`` entry of the mmrazor benchmark configs: applies
:mod:`bench.mmrazor_shim`, then registers mmrazor's models (its
``FpnTeacherDistill``, recorders, connectors and losses)."""
from bench.mmrazor_shim import apply

apply()
import mmrazor.models  # noqa: E402,F401
