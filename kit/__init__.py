"""The learner's kit: exercises declared against torch.autograd, checked by pytest and the `kit` command.

In a notebook, `import kit` and then `kit.check(square_grad)` (kit/notebook/checks.py). Importing
the package itself stays light (the pytest plugin imports it in every project): kit.check, and
torch with it, is imported on first use.
"""


def __getattr__(name: str):
    if name == "check":  # the module kit/check.py, callable: kit/notebook/checks.py's check
        import importlib

        return importlib.import_module("kit.check")
    raise AttributeError(f"module 'kit' has no attribute {name!r}")
