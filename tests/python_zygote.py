"""A ``python`` that starts in milliseconds: a zygote process imports torch and the library once, and each
``python -c ...`` / ``python -m ...`` of a documentation block runs in a child
forked from it, with the caller's argv, working folder, environment and standard streams.

Why: the documentation test runs about thirty commands, each of which would otherwise start a new
interpreter and import torch (seconds each). A forked child gets a fresh ``__main__``, its own
``sys.argv``, cwd, environment and file descriptors, exits with the code the command gives, and shares
nothing with its siblings; what it does not re-do is the imports. Used by ``tests/test_docs.py``:

    with Zygote(env) as zygote:          # starts ``sys.executable -m tests.python_zygote SOCKET``
        env = zygote.environment(env)   # PATH begins with a folder whose ``python`` talks to the zygote
        subprocess.run(["bash", "-c", "python -m qualiclip --help"], env=env)

The ``python`` on that PATH (:data:`SHIM`) hands the zygote its argv, cwd, environment and its stdin,
stdout and stderr (as file descriptors over a Unix socket), waits for the exit code and exits with it.
Any other form of the command (a script file, interpreter flags, ``python -`` with a script on stdin,
no socket) runs the real interpreter, ``sys.executable``, so the result never depends on the shortcut.
"""
from __future__ import annotations

import array
import atexit
import json
import os
import runpy
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import types
from pathlib import Path

#: Modules the zygote imports before it forks (what the documented commands spend their start-up on).
PRELOAD = ("torch", "torchvision", "open_clip", "numpy", "PIL.Image", "matplotlib.pyplot", "scipy.stats",
           "qualiclip", "qualiclip.cli", "qualiclip.loading", "qualiclip.explain", "qualiclip.training",
           "qualiclip.evaluation", "qualiclip.collection", "qualiclip.degradations")
SOCKET_ENV = "QUALICLIP_TEST_ZYGOTE"
#: The ``python`` the documentation's commands find first on PATH (its shebang names the running interpreter).
SHIM = '''#!{python} -S
import array, json, os, socket, sys
path = os.environ.get({env!r})
argv = sys.argv[1:]
if not path or len(argv) < 2 or argv[0] not in ("-c", "-m"):
    os.execv({python!r}, [{python!r}, *argv])
conn = socket.socket(socket.AF_UNIX)
conn.connect(path)
request = json.dumps({{"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}}).encode()
conn.sendmsg([len(request).to_bytes(8, "big"), request],
             [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [0, 1, 2]))])
reply = b""
while chunk := conn.recv(64):
    reply += chunk
sys.exit(int(reply or b"1"))
'''


def _receive(conn: socket.socket) -> tuple[dict, list[int]]:
    """One request: its JSON body and the three file descriptors sent with it."""
    fds = array.array("i")
    header, ancillary, _, _ = conn.recvmsg(8, socket.CMSG_SPACE(3 * fds.itemsize))
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
    size, body = int.from_bytes(header, "big"), b""
    while len(body) < size:
        body += conn.recv(size - len(body))
    return json.loads(body), list(fds)


def _run_as_main(argv: list[str]) -> int:
    """Run ``python ARGV`` in this (forked) process as the interpreter would; the exit code."""
    try:
        if argv[0] == "-c":
            sys.argv = ["-c", *argv[2:]]
            main = sys.modules["__main__"] = types.ModuleType("__main__")
            exec(compile(argv[1], "<string>", "exec"), main.__dict__)
        else:
            sys.argv = [argv[1], *argv[2:]]
            runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        return 0
    except SystemExit as stop:
        if stop.code is None or isinstance(stop.code, int):
            return stop.code or 0
        print(stop.code, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BaseException:  # what the interpreter does with an uncaught exception: print it, exit 1
        import traceback

        traceback.print_exc()
        return 1


def _child(request: dict, fds: list[int]) -> None:
    """In the forked child: take the caller's streams, folder and environment, run, exit."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    code = _run_as_main(request["argv"])
    try:
        threading._shutdown()  # what the interpreter does at exit: wait for non-daemon threads, run atexit
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code & 0xFF)


def _serve_one(conn: socket.socket) -> None:
    """Fork a child for one request and report its exit code; a caller that goes away kills it."""
    with conn:
        request, fds = _receive(conn)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            conn.close()
            _child(request, fds)
        for fd in fds:
            os.close(fd)
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                conn.sendall(str(os.waitstatus_to_exitcode(status) % 256).encode())
                return
            if select.select([conn], [], [], 0.05)[0]:  # the caller closed its end: it was killed
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return


def serve(path: str) -> None:
    """The zygote: import :data:`PRELOAD`, then serve requests on the Unix socket ``path`` until killed."""
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen(8)
    print("ready", flush=True)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=_serve_one, args=(conn,), daemon=True).start()


class Zygote:
    """A zygote process for one test session, and the PATH folder whose ``python`` uses it."""

    def __init__(self, env: dict[str, str]) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="qc-zygote-"))
        self.socket = str(self.folder / "socket")
        shim = self.folder / "bin" / "python"
        shim.parent.mkdir()
        shim.write_text(SHIM.format(python=sys.executable, env=SOCKET_ENV))
        shim.chmod(0o755)
        # Started with -c, so that sys.path[0] is "": each child then imports from its own working folder,
        # as ``python -c`` and ``python -m`` do.
        self.process = subprocess.Popen([sys.executable, "-c", f"from tests.python_zygote import serve; serve({self.socket!r})"],
                                        env=env, cwd=Path(__file__).resolve().parents[1],
                                        stdout=subprocess.PIPE, text=True)
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the zygote did not start (exit {self.process.wait()})")

    def environment(self, env: dict[str, str]) -> dict[str, str]:
        """``env`` with the zygote's ``python`` first on PATH, then the running interpreter's folder."""
        path = os.pathsep.join([str(self.folder / "bin"), str(Path(sys.executable).parent), env.get("PATH", "")])
        return {**env, "PATH": path, SOCKET_ENV: self.socket}

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        shutil.rmtree(self.folder)

    def __enter__(self) -> "Zygote":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
