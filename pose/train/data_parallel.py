"""Data-parallel training on the CPU: several processes, each taking a share of every batch.

A step of these models is thousands of small operators, and one process with two torch threads leaves
two cores partly idle between them. Two single-threaded processes, each computing half of every batch and
averaging gradients (``DistributedDataParallel`` over gloo), keep both busy
(``tests/benchmarks/train_processes.py``). Set ``[train] processes`` (with ``threads = 1``).

:func:`train_in_processes` spawns the processes and waits. Every process builds the same run; the first
(:attr:`Group.is_main`) alone validates, writes checkpoints and logs. A first Ctrl-C (or SIGTERM, SIGHUP) sets
a shared stop flag that every process reads between steps, and they agree to stop on the same step
(:meth:`Group.any`), so the run saves its state as a single process does; a second Ctrl-C ends them at once.
A process whose launcher is gone (killed outright) sets the flag itself, so none trains on as an orphan.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import re
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import torch
import torch.distributed as dist
import torch.multiprocessing

from pose import LOG_FORMAT
from pose.stop_signals import SettableFlag, SignalStop, StopFlag

if TYPE_CHECKING:
    from pose.train.config import TrainConfig
    from pose.train.engine import RunOptions, TrainResult

JOIN_POLL_S = 0.5
"""How often the launcher looks at its workers and the stop signals' flag."""
PARENT_POLL_S = 1.0
"""How often a training process checks that its launcher is still there."""
COLLECTIVE_TIMEOUT = timedelta(days=7)
"""How long a process waits in a collective call for the others. The others wait at a barrier while the
main one validates (minutes, longer on a CPU shared with other work), and a run paused with SIGSTOP must
live through its pause: gloo's default, 30 minutes, ended a run paused during validation. A process that
dies is noticed by the launcher, not by this timeout."""
PROCESS_FAILURES = (torch.multiprocessing.ProcessRaisedException,
                    torch.multiprocessing.ProcessExitedException)
"""How a spawned process fails: it raised, or it was killed (e.g. by the kernel's out-of-memory killer)."""

log = logging.getLogger(__name__)


def announce_stop(name: str) -> None:
    """Log what the first stop signal does (a :class:`SignalStop` ``on_signal``)."""
    said = "Ctrl-C" if name == "SIGINT" else name
    log.warning("%s: stopping after this step and saving the state (%s again to abort)", said, said)


def stop_when_orphaned(
    stop: SettableFlag, parent_pid: int, poll_s: float = PARENT_POLL_S
) -> threading.Thread:
    """Start a daemon thread that sets ``stop`` once this process's parent is no longer ``parent_pid`` (the
    launcher died without passing on a stop, e.g. SIGKILL): the processes then stop together on the next
    step and save the state, instead of training on unseen. The thread ends when ``stop`` is set."""

    def watch() -> None:
        while not stop.is_set():
            if os.getppid() != parent_pid:
                log.warning("the training launcher (pid %d) is gone: stopping after this step", parent_pid)
                stop.set()
                return
            time.sleep(poll_s)

    thread = threading.Thread(target=watch, name="launcher-watch", daemon=True)
    thread.start()
    return thread


@dataclass(frozen=True)
class Group:
    """This process's place among the run's processes: ``rank`` of ``size`` (``size == 1``: alone, and
    every method is free)."""

    rank: int = 0
    size: int = 1

    @property
    def is_main(self) -> bool:
        """The process that validates, saves and logs."""
        return self.rank == 0

    def any(self, flag: bool) -> bool:
        """True on every process when ``flag`` is True on any of them (a collective call)."""
        if self.size == 1:
            return flag
        value = torch.tensor(float(flag))
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value)

    def mean(self, value: torch.Tensor) -> torch.Tensor:
        """``value`` averaged over the processes (a collective call)."""
        if self.size == 1:
            return value
        total = value.detach().clone()
        dist.all_reduce(total)
        return total / self.size

    def barrier(self) -> None:
        """Wait until every process reaches this call (e.g. while the main one validates)."""
        if self.size > 1:
            dist.barrier()

    def check_in_step(self, model: torch.nn.Module) -> None:
        """Raise ``RuntimeError`` unless every process holds the same parameters (a collective call): the
        gradients were averaged over them at every step. (Batch-norm statistics are each process's own;
        the main process's are the ones saved.)"""
        if self.size == 1:
            return
        with torch.no_grad():
            checksum = torch.stack([parameter.double().sum() for parameter in model.parameters()])
        lowest, highest = checksum.clone(), checksum.clone()
        dist.all_reduce(lowest, op=dist.ReduceOp.MIN)
        dist.all_reduce(highest, op=dist.ReduceOp.MAX)
        if not torch.equal(lowest, highest):
            raise RuntimeError("the training processes' weights differ: their gradients were not averaged")

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        """``model`` as the step should call it: gradients averaged over the processes when there are
        several (its parameters are first made equal to the main process's)."""
        if self.size == 1:
            return model
        # static_graph: the same parameters take part in every step, and some never do (Dite's unused
        # mask conv), which plain DDP reports as an error.
        return torch.nn.parallel.DistributedDataParallel(model, static_graph=True)


ALONE = Group()

Worker = Callable[["TrainConfig", "RunOptions", Group, StopFlag], "TrainResult"]
"""(config, options, group, stop flag) -> the run's result, as one process runs it."""


def train_in_processes(config: TrainConfig, options: RunOptions, worker: Worker) -> TrainResult:
    """Run ``worker`` in ``config.train.processes`` spawned CPU processes and return the main one's result.

    Raises:
        KeyboardInterrupt: Ctrl-C stopped the run (its state is saved, as by a single process).
        RuntimeError: a process failed; the message ends with its error.
    """
    size = config.train.processes
    context = torch.multiprocessing.get_context("spawn")
    stop, results = context.Event(), context.SimpleQueue()
    signalled = SignalStop(on_signal=announce_stop)
    with tempfile.TemporaryDirectory(prefix="edite-ddp-") as rendezvous, signalled:
        shared = (size, f"file://{Path(rendezvous) / 'init'}", logging.getLogger().level, worker, config,
                  options, stop, results)
        processes = torch.multiprocessing.start_processes(
            _run_one, args=shared, nprocs=size, join=False, start_method="spawn"
        )
        try:
            while not processes.join(JOIN_POLL_S):
                if signalled.is_set():
                    stop.set()
        except PROCESS_FAILURES as error:  # the others are ended by join
            raise RuntimeError(f"a training process failed: {_error_line(str(error))}") from None
        except KeyboardInterrupt:  # a second Ctrl-C: end them now
            for process in processes.processes:
                process.terminate()
            raise
    if results.empty():  # the main process was stopped by the flag (its state is saved)
        raise KeyboardInterrupt
    return results.get()


def _run_one(
    rank: int, size: int, rendezvous: str, log_level: int, worker: Worker, config: TrainConfig,
    options: RunOptions, stop: SettableFlag, results: multiprocessing.SimpleQueue,
) -> None:
    """One spawned process: join the group, run, and (the main one) hand the result back."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the launcher turns Ctrl-C into the shared stop flag
    logging.basicConfig(level=log_level, format=LOG_FORMAT)  # spawned processes start unconfigured
    stop_when_orphaned(stop, os.getppid())
    with _process_group(rank, size, rendezvous):
        try:
            result = worker(config, options, Group(rank, size), stop)
        except KeyboardInterrupt:  # stopped on the shared flag: the state is saved
            return
        if rank == 0:
            results.put(result)


def _error_line(traceback: str) -> str:
    """The ``SomeError: message`` line of a traceback's text (its last line when none is found)."""
    lines = traceback.strip().splitlines()
    errors = [line for line in lines if re.match(r"^[\w.]+(Error|Exception|Interrupt)\b", line)]
    return (errors or lines)[-1]


@contextlib.contextmanager
def _process_group(rank: int, size: int, rendezvous: str) -> Iterator[None]:
    dist.init_process_group("gloo", init_method=rendezvous, rank=rank, world_size=size,
                            timeout=COLLECTIVE_TIMEOUT)
    try:
        yield
    finally:
        dist.destroy_process_group()
