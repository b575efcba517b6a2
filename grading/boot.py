"""The first code a zygote runs: `python -I -S -c <this file's text> FD` (grading/isolation.py).

Isolated mode (-I -S: no environment variables, no user site, no .pth files) and no kit on
sys.path: the zygote imports only the standard library, then the site-packages folders of
torch and numpy, and the modules the grader sends over FD as source text. So a child holds
exactly those modules; `import kit.chapters` or `import solutions` finds nothing there.
"""
import pickle
import socket
import struct
import sys
import types


def install(name: str, source: str) -> types.ModuleType:
    """Make module `name` from its source; its packages are empty, so they import nothing else."""
    parent = None
    parts = name.split(".")
    for i in range(1, len(parts)):
        package = ".".join(parts[:i])
        if package not in sys.modules:
            sys.modules[package] = types.ModuleType(package)
            sys.modules[package].__path__ = []
            if parent is not None:
                setattr(parent, parts[i - 1], sys.modules[package])
        parent = sys.modules[package]
    module = types.ModuleType(name)
    module.__file__ = f"<kit {name}>"
    sys.modules[name] = module
    if parent is not None:
        setattr(parent, parts[-1], module)
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module


def _read(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise SystemExit(0)
        data += chunk
    return data


def main(fd: int) -> None:
    sock = socket.socket(fileno=fd)
    (size,) = struct.unpack("!Q", _read(sock, 8))
    message = pickle.loads(_read(sock, size))  # from the grader, which started this process
    sys.path += message["path"]
    install("grading.boot", "")
    sys.modules["grading.boot"].install = install
    for name, source in message["modules"]:
        install(name, source)
    sys.modules["grading.zygote"].main(sock, message["settings"])


if __name__ == "__main__":
    main(int(sys.argv[1]))
