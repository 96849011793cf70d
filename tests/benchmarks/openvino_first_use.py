"""How often OpenVINO's Python layer deadlocks when two threads make its first calls at once, and whether a
first ``Tensor.data`` call made alone beforehand prevents it (:mod:`pose.runtime_openvino` explains why).

    python tests/benchmarks/openvino_first_use.py [--processes 40] [--timeout 20]

Each try is a fresh process (the race is on a once-per-process initialisation) that compiles a one-ReLU
model with two streams and runs two infer requests:

* ``two threads``: each request's first ``infer`` on its own thread, released together (how the crop
  workers ran before);
* ``warmed, two threads``: the same after one ``Tensor.data`` call on the main thread (what
  :class:`pose.runtime_openvino.OpenVinoForward` does as it is built);
* ``one thread, start_async``: both requests started and awaited from one thread (how it runs batches).

A process still running after ``--timeout`` seconds counts as hung. Prints the count per mode.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

MODES = ("two threads", "warmed, two threads", "one thread, start_async")

TRY = """
import sys, threading
import numpy as np
import openvino
import openvino.opset13 as ops

mode = sys.argv[1]
x = ops.parameter([-1, 3, 8, 8], np.float32, name="x")
compiled = openvino.Core().compile_model(openvino.Model([ops.relu(x)], [x]), "CPU",
                                         {"NUM_STREAMS": 2, "INFERENCE_NUM_THREADS": 2})
requests = [compiled.create_infer_request() for _ in range(2)]
batch = np.ones((2, 3, 8, 8), np.float32)
if mode == "one thread, start_async":
    for request in requests:
        request.start_async({0: batch})
    for request in requests:
        request.wait()
    sys.exit(0)
if mode == "warmed, two threads":
    _ = openvino.Tensor(np.zeros(1, np.float32)).data
together = threading.Barrier(len(requests))

def first_infer(request):
    together.wait()
    request.infer({0: batch})

threads = [threading.Thread(target=first_infer, args=(request,)) for request in requests]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
"""


def hung(mode: str, timeout_s: float) -> bool:
    """Whether one fresh process trying ``mode`` was still running after ``timeout_s`` (it is killed)."""
    try:
        subprocess.run([sys.executable, "-c", TRY, mode], timeout=timeout_s, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=40, help="fresh processes per mode (default 40)")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds before a try counts as hung")
    args = parser.parse_args()
    for mode in MODES:
        count = sum(hung(mode, args.timeout) for _ in range(args.processes))
        print(f"{mode:>25}: {count} of {args.processes} processes hung", flush=True)


if __name__ == "__main__":
    main()
