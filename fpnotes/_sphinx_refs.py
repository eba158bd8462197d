"""Sphinx extension: resolve references to fpnotes' top-level names.

Docstrings and pages write ``fpnotes.train`` (the name readers call), but the API
page documents the function where it is defined, ``fpnotes.training.train``. When
a Python reference ``fpnotes.X`` is not found, look up the object and retry with
its defining module, so the link goes to the documented entry.
"""

import importlib


def _defining_name(target):
    module_name, _, attr = target.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError):
        return None
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not module or not qualname or f"{module}.{qualname}" == target:
        return None
    return f"{module}.{qualname}"


def resolve(app, env, node, contnode):
    if node.get("refdomain") != "py" or not node["reftarget"].startswith("fpnotes."):
        return None
    real = _defining_name(node["reftarget"])
    if real is None:
        return None
    domain = env.get_domain("py")
    return domain.resolve_xref(env, node.get("refdoc"), app.builder, node["reftype"], real,
                               node, contnode)


def setup(app):
    app.connect("missing-reference", resolve)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
