"""Closing the operators that compute a derivative: dispatcher kernels, torch.ops look-ups and TorchScript.

Part of kit/autograd/block.py (the rows close_derivative_ops, close_operator_lookup and
close_jit of its table). Each function gets torch as an argument and puts refusing stand-ins
in place (kit/autograd/refusal.py: swap). Imports only the standard library (and the torch
it is given): a student's process loads it from its source (grading/isolation.py: CHILD_MODULES).

Under the learner's gate the kernels are not replaced (the kit's own backward passes call them):
the refusing kernels sit at one dispatch key, GATE_KEY, which the gate adds to the calling
thread's dispatch keys only while learner code runs (block.learner_code), and the two Python
calls that name a lower key themselves (OpOverload.redispatch, decompose) refuse a derivative
operator there. torch.ops look-ups keep their originals (close_operator_lookup).
"""
from __future__ import annotations

import ctypes
import functools
import gc
import re
import sys
import warnings

from kit.autograd.refusal import Swaps, guard, refuse, refusing, swap

# TorchScript: compiling, tracing, loading or interpreting a graph runs ops without Python
JIT = ("CompilationUnit", "parse_ir", "import_ir_module", "import_ir_module_from_buffer",
       "_import_ir_module_from_package", "_create_function_from_graph", "_create_function_from_trace",
       "_create_function_from_trace_with_dict", "_create_method_from_trace", "_create_module_with_type",
       "_jit_script_compile", "_jit_script_compile_overload", "_jit_script_class_compile",
       "_jit_script_interface_compile", "_jit_interpret_graph", "_jit_trace_graph", "_jit_trace_module",
       "_jit_to_backend", "_jit_to_backend_selective", "_jit_to_static_module", "_jit_run_cpp_tests",
       "_load_for_lite_interpreter", "_load_for_lite_interpreter_from_buffer", "_load_jit_module_from_bytes",
       "_load_jit_module_from_file", "_load_mobile_module_from_bytes", "_load_mobile_module_from_file",
       "_compile_graph_to_code_table")
# ... and the methods of what already exists (torch.jit keeps a CompilationUnit from its import on)
JIT_METHODS = (("CompilationUnit", ("define", "create_function")),
               ("ScriptModule", ("_define", "_create_method_from_trace", "_create_method_from_trace_with_dict")),
               ("ConcreteModuleType", ("_create_methods_and_properties",)),
               ("ScriptFunction", ("__call__",)), ("ScriptMethod", ("__call__",)),
               ("ScriptClass", ("__call__",)), ("ScriptClassFunction", ("__call__",)),
               ("LiteScriptModule", ("run_method", "forward")), ("StaticModule", ("__call__", "runAsync")))

# TorchScript operators that switch grad mode (aten::enable_grad is only a name in its builtin table)
GRAD_MODE_OPS = frozenset({"aten::set_grad_enabled", "aten::enable_grad", "aten::_set_grad_enabled"})

# operators that compute a derivative themselves: these base names, and any name containing
# "backward" or ending in "_jvp"
DERIVATIVE_OPS = frozenset({"_make_dual", "_make_dual_copy", "_unpack_dual", "_fw_primal", "_fw_primal_copy",
                            "grad", "set_grad_enabled", "get_gradients", "_dirichlet_grad",
                            "_standard_gamma_grad"})

# Python modules whose functions named like derivative operators are closed (their decompositions)
DECOMPOSITION_MODULES = ("torch._decomp", "torch._refs", "torch._prims")


def is_derivative_op(qualified: str) -> bool:
    """'aten::sigmoid_backward.grad_input' -> True: the op computes a derivative itself."""
    base = qualified.split("::", 1)[-1].split(".", 1)[0]
    return "backward" in base or base.endswith("_jvp") or base in DERIVATIVE_OPS


KERNEL_LINE = re.compile(r"^(\w+)(?:\[alias\])?: registered at", re.M)
# the learner's gate: a key above every other that eager torch never includes (only torch.export's
# pre-dispatch tracing does), whose fallback passes every operator on to the keys below it
GATE_KEY = "PreDispatch"


def close_derivative_ops(torch, swaps: Swaps) -> None:
    """A refusing kernel for every derivative operator, at every key it has a kernel for (under
    the learner's gate: at GATE_KEY alone).

    The registrations live as long as the library handle; the handle is deliberately leaked
    (one reference that nothing will ever drop), so that no Python object can undo them."""
    # vmap registers Python decompositions (of backward ops among others) on its first use, looking
    # them up by name: done now, so that vmap keeps working and the kernels below come last
    from torch._functorch.predispatch import lazy_load_decompositions
    lazy_load_decompositions()
    libraries = {}
    for name in torch._C._dispatch_get_all_op_names():
        if not is_derivative_op(name):
            continue
        namespace, op = name.split("::", 1)
        if namespace not in libraries:
            libraries[namespace] = torch._C._dispatch_library("IMPL", namespace, "", "autograd_block", 0)
        if swaps.gate is None:
            keys = set(KERNEL_LINE.findall(torch._C._dispatch_dump(name))) | {"Autograd", "CPU"}
            keys &= set(torch._C.DispatchKey.__members__)  # the dump has other lines ("debug: ...")
            keys.discard("Tracer")  # a fallthrough: the call goes on to the keys below it
        else:
            keys = {GATE_KEY}
        kernel = refusing(f"torch.ops.{namespace}.{op}")
        with warnings.catch_warnings():  # "Overriding a previously registered kernel": on purpose
            warnings.simplefilter("ignore")
            for key in sorted(keys):
                libraries[namespace].impl(op, key, kernel)
    for library in libraries.values():
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(library))  # the leak: alive until the process ends
    libraries.clear()

    # operators already looked up (torch.ops.aten.X objects): a dispatcher operator's C function
    # now reaches the kernels above; a TorchScript-only one's (aten::grad) does not, so it is
    # replaced, here and wherever else it is held. (Not the former: an OpOverload hashes by it.)
    from torch._ops import OpOverload, OpOverloadPacket
    dispatched = {name.split(".", 1)[0] for name in torch._C._dispatch_get_all_op_names()}
    for op in gc.get_objects():
        if issubclass(type(op), (OpOverload, OpOverloadPacket)):  # type(): no __class__ look-up runs
            qualified = op._qualified_op_name if isinstance(op, OpOverloadPacket) else op._name
            if is_derivative_op(qualified):
                if qualified.split(".", 1)[0] not in dispatched:
                    for attribute in ("_op", "_op_dk"):
                        swap(swaps, op, attribute, refusing(f"torch.ops.{qualified.replace('::', '.')}"))
                if isinstance(op, OpOverload):
                    op.py_kernels.clear()  # Python kernels (decompositions) for the Python dispatcher
    if swaps.gate is not None:  # below GATE_KEY by name: what the kernels at every key refuse for block()
        for name in ("redispatch", "decompose"):
            guard(swaps, OpOverload, name, _derivative_refused(name))

    # torch._decomp's tables of Python decompositions, and the functions themselves
    import torch._decomp
    for table in torch._decomp.global_decomposition_table.values():
        for op in [op for op in table if is_derivative_op(str(getattr(op, "_name", op)))]:
            del table[op]
    for module_name, module in list(sys.modules.items()):
        if module is None or not module_name.startswith(DECOMPOSITION_MODULES):
            continue
        for attribute, value in list(vars(module).items()):
            if callable(value) and not isinstance(value, type) and is_derivative_op(attribute):
                swap(swaps, module, attribute, refusing(f"{module_name}.{attribute}"))


def _derivative_refused(method: str):
    """A check for OpOverload.<method>(self, ...): it refuses when the operator computes a derivative."""
    def check(op, *args, **kwargs):
        if is_derivative_op(str(getattr(op, "_name", ""))):
            refuse(f"OpOverload.{method} of torch.ops.{op._name.replace('::', '.')}")
    return check


def close_operator_lookup(torch, swaps: Swaps) -> None:
    """torch.ops.<ns>.<name> looks operators up by name with two C functions, which also find
    TorchScript's own operators (aten::grad, aten::backward, aten::set_grad_enabled: they run the
    engine or switch grad mode without the dispatcher). Both are replaced by:
    - look-ups in tables made now of every other operator: what they return is what the
      originals returned;
    - for a dispatcher operator registered after block() (torch defines some of its own when a
      module is first imported, e.g. by torch.optim), a call through the dispatcher by its
      handle, which reaches dispatcher kernels only (and every derivative one refuses).
    TorchScript's derivative operators are refused; any other name is not found. (Dispatcher
    derivative operators are found: torch names them in tables when its modules are imported,
    and calling one reaches the refusing kernels of close_derivative_ops.)

    Under the learner's gate the originals stay, and look up as ever after the same refusal."""
    schemas = torch._C._jit_get_all_schemas()
    dispatched = {n.split(".", 1)[0] for n in torch._C._dispatch_get_all_op_names()}
    refused = frozenset(s.name for s in schemas if is_derivative_op(s.name) and s.name not in dispatched)

    def checked(qualified_name, overload_name="") -> None:
        if type(qualified_name) is not str or type(overload_name) is not str:
            raise TypeError("operator names are str")
        if qualified_name in refused:
            refuse(f"torch.ops look-up of TorchScript's {qualified_name}")

    if swaps.gate is not None:
        guard(swaps, torch._C, "_jit_get_operation", checked)
        guard(swaps, torch._C, "_get_operation_overload", checked)
        return
    operations = {}
    for name in {s.name for s in schemas} | dispatched:
        if name not in refused:
            found = torch._C._jit_get_operation(name)
            if found[0] is not None:
                operations[name] = found
    overloads = {}
    for schema in schemas:
        if schema.name not in refused:
            try:
                overloads[(schema.name, schema.overload_name)] = torch._C._get_operation_overload(
                    schema.name, schema.overload_name)
            except RuntimeError:
                pass  # a schema without a runnable kernel
    find_schema, call_boxed, all_names = (torch._C._dispatch_find_schema_or_throw, torch._C._dispatch_call_boxed,
                                          torch._C._dispatch_get_all_op_names)
    key_set = torch._C.DispatchKeySet

    def through_dispatcher(qualified_name: str, overload_name: str):
        handle = find_schema(qualified_name, overload_name)  # RuntimeError when there is none
        call = functools.partial(call_boxed, handle)
        return call, lambda key, *args, **kwargs: handle.redispatch_boxed(key_set(key), *args, **kwargs)

    def _jit_get_operation(qualified_name):
        checked(qualified_name)
        found = operations.get(qualified_name)
        if found is None:
            names = [n.split(".", 1)[1] if "." in n else ""
                     for n in all_names() if n.split(".", 1)[0] == qualified_name]
            if not names:
                raise RuntimeError(f"No such operator {qualified_name}")
            found = through_dispatcher(qualified_name, "" if "" in names else names[0])[0], names
        return found

    def _get_operation_overload(qualified_name, overload_name):
        checked(qualified_name, overload_name)
        found = overloads.get((qualified_name, overload_name))
        return found if found is not None else (*through_dispatcher(qualified_name, overload_name), [])

    swap(swaps, torch._C, "_jit_get_operation", _jit_get_operation)
    swap(swaps, torch._C, "_get_operation_overload", _get_operation_overload)


def close_jit(torch, swaps: Swaps) -> None:
    for type_name, methods in JIT_METHODS:
        cls = getattr(torch._C, type_name, None)
        for method in methods if isinstance(cls, type) else ():
            swap(swaps, cls, method, refusing(f"TorchScript's {type_name}.{method}"))
    for name in JIT:
        swap(swaps, torch._C, name, refusing(f"torch._C.{name}"))
    # TorchScript's table of Python functions it compiles as operators (id(function) -> name):
    # ids of freed originals could come back as other objects' ids
    import torch.jit._builtins as builtins
    table = builtins._get_builtin_table()
    for key in [key for key, name in table.items() if is_derivative_op(name) or name in GRAD_MODE_OPS]:
        del table[key]
    builtins._builtin_ops[:] = [(f, name) for f, name in builtins._builtin_ops
                                if not (is_derivative_op(name) or name in GRAD_MODE_OPS)]
