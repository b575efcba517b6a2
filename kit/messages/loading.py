"""The sentences of loading a learner's code: a module missing, broken, a name not there, a stub untouched.

kit/implementation.py raises them; a grading child runs that module, so this one imports nothing
(the grader sends it to the child as source: grading/isolation.py CHILD_MODULES).
"""


def missing_module(path, name: str, folder) -> str:
    return f"{path} does not exist: the module {name} is missing from {folder}"


def broken_module(filename: str, learner_traceback: str) -> str:
    return f"{filename} could not be imported:\n{learner_traceback}"


def missing_name(filename: str, attribute: str) -> str:
    return f"{filename} has no {attribute}: the curriculum asks for it by that name"


def not_attempted(name: str, path) -> str:
    return f"not attempted: {name} in {path} still raises NotImplementedError"
