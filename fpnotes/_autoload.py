"""Collect the public names of a subpackage's topic modules into the subpackage.

``fpnotes.checks`` and ``fpnotes.plotting`` hold one module per chapter or
topic; each lists its public functions in ``__all__``. Importing them here lets
readers call ``fpnotes.checks.some_check`` without knowing which file it is in,
and lets a new chapter add a module without editing a shared import list.
"""

from __future__ import annotations

import importlib
import pkgutil


def collect(package_name, package_path, namespace, skip=("core",)):
    names = []
    for info in sorted(pkgutil.iter_modules(package_path), key=lambda i: i.name):
        if info.name.startswith("_") or info.name in skip:
            continue
        module = importlib.import_module(f"{package_name}.{info.name}")
        for name in getattr(module, "__all__", []):
            if name in namespace:
                raise ImportError(f"{package_name}: {name!r} is defined twice "
                                  f"(again in {info.name})")
            namespace[name] = getattr(module, name)
            names.append(name)
    return names
