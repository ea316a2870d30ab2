"""``WorkerPool``: ``dataset[index]`` for a stream of indices, loaded ahead on workers, yielded in order.

The pool knows nothing about batches: it calls ``dataset[index]`` on any object
with ``__getitem__``. ``workers=0`` (or 1 without multiprocessing) runs in the
calling thread; otherwise a ``ThreadPoolExecutor`` shares the dataset, or a
``ProcessPoolExecutor`` gets a pickled copy through its initializer, once per
process. Processes use ``forkserver`` where the platform has it, else
``spawn``, never ``fork``: a forked copy of a process that already runs threads
(PyTorch's, the pool's own) can deadlock on a lock held at the fork. Processes
live as long as the pool; a dataset whose state changed between passes (an
``on_epoch_end`` that reshuffles a file list) is written once to a private
temporary file that each worker reloads once.

:meth:`WorkerPool.imap` yields results in index-stream order, loads each index
once, keeps at most ``max_queue_size`` indices submitted and not yet yielded,
and re-raises a worker's exception with the worker's traceback (``__cause__``
for processes) and a note naming the index. Leaving a pass early cancels what
has not started and waits for what has; an error or ``KeyboardInterrupt`` stops
the workers. Worker processes ignore SIGINT, so Ctrl-C is handled once, in the
main process. :meth:`WorkerPool.close` (also run on garbage collection and at
interpreter exit) leaves no orphaned or zombie processes.
"""

import concurrent.futures
import concurrent.futures.process  # imported now: importing it lazily fails at interpreter exit
import contextlib
import hashlib
import itertools
import multiprocessing
import numbers
import operator
import os
import pickle
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
import types
import weakref
from collections import deque

__all__ = ["WorkerError", "WorkerPool"]

# How long leaving a pass early may wait for loads already running before the workers are stopped.
_DRAIN_TIMEOUT_S = 10.0
# How long a stopping worker process may take to exit before it is killed.
_JOIN_TIMEOUT_S = 5.0
_SEARCH_DEPTH = 6
_WORKER_NOUN = {"threads": "thread", "processes": "process"}
# Modules the forkserver imports once, so each worker forks with them loaded instead of importing
# PyTorch again (seconds per worker).
_FORKSERVER_PRELOAD = ("ember",)

MSG_UNPICKLABLE = (
    "use_multiprocessing=True sends the {kind} to worker processes with pickle, but {culprit} cannot be "
    "pickled ({reason}). Make the {kind} picklable: keep plain data (file paths, arrays, numbers) in its "
    "attributes and open files, connections or locks lazily inside __getitem__ rather than in __init__; "
    "define the class and any function it stores (no lambdas or nested functions) at the top level of a "
    "module. Or load batches on threads with use_multiprocessing=False."
)
MSG_WORKER_DIED = (
    "A worker process exited unexpectedly while loading {target}, so the pool was stopped. Common causes: "
    "the operating system killed it (e.g. out of memory), native code crashed, or it could not start: "
    "worker processes import the program's main module, which must be a file whose entry point is guarded "
    "by `if __name__ == \"__main__\":`. The worker's own error, if any, is printed above."
)
MSG_MAIN_NOT_IMPORTABLE = (
    "use_multiprocessing=True needs worker processes to import the {kind}'s class, but `{name}` is defined "
    "in a main program they cannot import ({where}). Move the class into a module file and import it from "
    "there, or load batches on threads with use_multiprocessing=False."
)
MSG_WORKER_SETUP_FAILED = (
    "A worker process could not load the {kind}. Worker processes import the module that defines its "
    "class, so define the class in a module file (not in an interactive session or a notebook cell) and "
    "guard the script's entry point with `if __name__ == \"__main__\":`. The worker's traceback:\n{details}"
)


class WorkerError(RuntimeError):
    """A worker process died, could not load the dataset, or raised an exception that cannot be pickled."""


def _check_count(value, name, minimum, meaning):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer >= {minimum} ({meaning}), got {value!r}.")
    if value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum} ({meaning}), got {value}.")
    return int(value)


def check_pool_settings(workers, use_multiprocessing, max_queue_size):
    """Validate the three worker settings; return them as ``(int, bool, int)``."""
    workers = _check_count(workers, "workers", 0, "0 loads batches in the main thread")
    if not isinstance(use_multiprocessing, bool):
        raise TypeError(f"`use_multiprocessing` must be True or False, got {use_multiprocessing!r}.")
    max_queue_size = _check_count(max_queue_size, "max_queue_size", 1, "how many batches to prepare ahead")
    return workers, use_multiprocessing, max_queue_size


# ---------------------------------------------------------------------------------------------------
# Worker-process side.

_worker_state = {"dataset": None, "version": None, "error": None}


def _initialize_process(payload, version, setup, kind, all_submitted):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is handled once, by the main process.
    _worker_state["all_submitted"] = all_submitted
    try:
        if setup is not None:
            setup()
        _worker_state["dataset"] = pickle.loads(payload)
        _worker_state["version"] = version
    except BaseException:
        _worker_state["error"] = MSG_WORKER_SETUP_FAILED.format(kind=kind, details=traceback.format_exc())


def _warm_up():
    # Held until every warm-up task is submitted: a finished task would mark its process idle, and the
    # executor then starts no new process for the next task, leaving the pool short of workers.
    _worker_state["all_submitted"].wait(timeout=60)
    return os.getpid()


def _survives_pickling(exc):
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return False
    return True


def _load_in_process(index, version, state_path, transform):
    if _worker_state["error"] is not None:
        raise WorkerError(_worker_state["error"])
    if _worker_state["version"] != version:
        with open(state_path, "rb") as file:
            _worker_state["dataset"] = pickle.load(file)
        _worker_state["version"] = version
    try:
        result = _worker_state["dataset"][index]
        return result if transform is None else transform(result)
    except BaseException as exc:
        if _survives_pickling(exc):
            raise
        raise WorkerError(
            f"{type(exc).__module__}.{type(exc).__qualname__}: {exc} (that exception cannot be pickled, so it "
            "was replaced by this error to reach the main process; its traceback is below)"
        ) from exc


# ---------------------------------------------------------------------------------------------------
# Main-process side.

def _describe(obj):
    if isinstance(obj, (types.FunctionType, types.MethodType)):
        return f"the function `{obj.__qualname__}`"
    return f"a `{type(obj).__module__}.{type(obj).__qualname__}` object"


def _children(obj, path):
    if isinstance(obj, dict):
        return [(f"{path}[{key!r}]", value) for key, value in obj.items()]
    if isinstance(obj, (list, tuple)):
        return [(f"{path}[{i}]", value) for i, value in enumerate(obj)]
    if isinstance(obj, type) or not hasattr(obj, "__getstate__"):
        return []
    try:
        state = obj.__getstate__()
    except Exception:
        return []
    if isinstance(state, tuple) and len(state) == 2:  # (__dict__, __slots__ values)
        state = {**(state[0] or {}), **(state[1] or {})}
    return [(f"{path}.{name}", value) for name, value in state.items()] if isinstance(state, dict) else []


def find_unpicklable(obj, path):
    """The deepest attribute or item under ``obj`` that fails to pickle: ``(path, object, error)``."""
    for depth in range(_SEARCH_DEPTH):
        for child_path, child in _children(obj, path):
            try:
                pickle.dumps(child, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:
                obj, path = child, child_path
                break
        else:
            break
    try:
        pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        return path, obj, exc
    return path, obj, None


def _resolve_context(mp_context):
    methods = multiprocessing.get_all_start_methods()
    if mp_context is None:
        if "forkserver" not in methods:
            return multiprocessing.get_context("spawn")
        context = multiprocessing.get_context("forkserver")
        # Keep whatever the program already asked the forkserver to preload (its default is
        # "__main__"); the list only takes effect if the server has not started yet.
        from multiprocessing import forkserver

        current = list(getattr(forkserver._forkserver, "_preload_modules", ["__main__"]))
        context.set_forkserver_preload(current + [m for m in _FORKSERVER_PRELOAD if m not in current])
        return context
    if isinstance(mp_context, str):
        if mp_context not in methods:
            raise ValueError(f"`mp_context` must be one of {methods} or a multiprocessing context, got {mp_context!r}.")
        return multiprocessing.get_context(mp_context)
    if isinstance(mp_context, multiprocessing.context.BaseContext):
        return mp_context
    raise TypeError(f"`mp_context` must be a start method name or a multiprocessing context, got {mp_context!r}.")


@contextlib.contextmanager
def _sigint_ignored():
    """Start processes with SIGINT ignored, so they ignore Ctrl-C from their first instruction.

    A Ctrl-C arriving in this short window (starting processes) is dropped.
    """
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is None:
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _stop_processes(executor, hard):
    processes = list((getattr(executor, "_processes", None) or {}).values())
    manager = getattr(executor, "_executor_manager_thread", None)
    executor.shutdown(wait=False, cancel_futures=True)
    if hard:
        for process in processes:
            with contextlib.suppress(OSError, ValueError):
                process.terminate()
    deadline = time.monotonic() + _JOIN_TIMEOUT_S
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.exitcode is None:
            with contextlib.suppress(OSError, ValueError):
                process.kill()
            process.join(_JOIN_TIMEOUT_S)
    if manager is not None and manager is not threading.current_thread():
        manager.join(_JOIN_TIMEOUT_S)


class _Resources:
    """What a pool must release: its executor (threads or processes) and its state-file folder.

    Kept apart from ``WorkerPool`` so the pool's finalizer can release them without keeping the pool alive.
    """

    def __init__(self):
        self.executor = None
        self.state_dir = None
        self.state_path = None  # the state newer than the one the processes started with, if any
        self.version = 0
        self.digest = None

    def release(self, hard=False):
        executor, self.executor = self.executor, None
        if isinstance(executor, concurrent.futures.ProcessPoolExecutor):
            _stop_processes(executor, hard)
        elif executor is not None:
            executor.shutdown(wait=not hard, cancel_futures=True)
        if self.state_dir is not None:
            shutil.rmtree(self.state_dir, ignore_errors=True)
            self.state_dir = None
        self.state_path = None
        self.digest = None


class WorkerPool:
    """Loads ``dataset[index]`` ahead on worker threads or processes and yields the results in order.

    Args:
        dataset: Any object with ``__getitem__``. With processes it must be picklable.
        workers: Number of workers; 0 (or 1 without multiprocessing) loads in the calling thread.
        use_multiprocessing: Load on worker processes instead of threads.
        max_queue_size: At most this many indices are submitted and not yet yielded.
        mp_context: Start method name or multiprocessing context for processes. Default:
            ``"forkserver"`` where available, else ``"spawn"``.
        worker_setup: Module-level function run once in each worker process before the dataset is loaded.
        result_transform: Module-level function applied to each result inside the worker process.
        kind: What the dataset is called in error messages (e.g. ``"Sequence"``).

    Example:
        >>> with WorkerPool([10, 11, 12, 13], workers=2) as pool:
        ...     list(pool.imap([3, 0, 2]))
        [13, 10, 12]
    """

    def __init__(self, dataset, workers=1, use_multiprocessing=False, max_queue_size=10, *, mp_context=None,
                 worker_setup=None, result_transform=None, kind="dataset"):
        self.workers, self.use_multiprocessing, self.max_queue_size = check_pool_settings(
            workers, use_multiprocessing, max_queue_size
        )
        self.dataset = dataset
        self.kind = kind
        if self.workers == 0 or (self.workers == 1 and not self.use_multiprocessing):
            self.mode = "inline"
        else:
            self.mode = "processes" if self.use_multiprocessing else "threads"
        # More workers than batches allowed in flight could never all be busy.
        self._size = min(self.workers, self.max_queue_size)
        self._context = _resolve_context(mp_context) if self.mode == "processes" else None
        self._worker_setup = worker_setup
        self._result_transform = result_transform
        self._resources = _Resources()
        self._finalizer = weakref.finalize(self, self._resources.release)
        self._active = None
        self._closed = False

    @property
    def closed(self):
        return self._closed

    def start(self):
        """Start the workers now rather than at the first pass; with processes, pickle the dataset first."""
        if self._closed:
            raise RuntimeError(f"This worker pool for a {self.kind} is closed; create a new one to load batches.")
        if self.mode == "inline" or self._resources.executor is not None:
            return
        if self.mode == "threads":
            self._resources.executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=self._size, thread_name_prefix="ember-worker"
            )
        else:
            payload = self._pickle_dataset()
            self._start_processes(payload, hashlib.sha256(payload).digest())

    def imap(self, indices):
        """Iterator over ``dataset[i]`` for each ``i`` in ``indices`` (possibly endless), in that order.

        Starting a new pass ends the previous one (as if its consumer had stopped).
        """
        if self._closed:
            raise RuntimeError(f"This worker pool for a {self.kind} is closed; create a new one to load batches.")
        self._close_active()
        run = self._run(iter(indices))
        self._active = weakref.ref(run)
        return run

    def close(self):
        """Stop the workers and delete temporary files. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._close_active()
        self._finalizer()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        return (f"WorkerPool(mode={self.mode!r}, workers={self.workers}, max_queue_size={self.max_queue_size}, "
                f"closed={self._closed})")

    # -- one pass ------------------------------------------------------------------------------------

    def _close_active(self):
        run = self._active() if self._active is not None else None
        self._active = None
        if run is not None:
            with contextlib.suppress(ValueError):  # "generator already executing": it is closing itself
                run.close()

    def _run(self, indices):
        if self.mode == "inline":
            for index in indices:
                yield self.dataset[index]
            return
        submit = self._start_pass()
        pending = deque()
        try:
            for index in itertools.islice(indices, self.max_queue_size):
                pending.append((index, submit(index)))
            while pending:
                index, future = pending.popleft()
                result = self._result(index, future)
                for next_index in itertools.islice(indices, 1):
                    pending.append((next_index, submit(next_index)))
                yield result
        except GeneratorExit:
            self._abandon(pending)
            raise
        except BaseException:
            self._stop_after_error(pending)
            raise

    def _start_pass(self):
        resources = self._resources
        if self.mode == "threads":
            self.start()
            executor, dataset = resources.executor, self.dataset
            return lambda index: executor.submit(operator.getitem, dataset, index)
        payload = self._pickle_dataset()
        digest = hashlib.sha256(payload).digest()
        if resources.executor is None:
            self._start_processes(payload, digest)
        elif digest != resources.digest:
            self._write_state(payload, digest)
        executor, version, transform = resources.executor, resources.version, self._result_transform
        state_path = resources.state_path

        def submit(index):
            try:
                return executor.submit(_load_in_process, index, version, state_path, transform)
            except concurrent.futures.BrokenExecutor as exc:
                raise WorkerError(MSG_WORKER_DIED.format(target=self._target(index))) from exc

        return submit

    def _pickle_dataset(self):
        cls = type(self.dataset)
        if cls.__module__ == "__main__":
            main_file = getattr(sys.modules["__main__"], "__file__", None)
            if main_file is None or not os.path.isfile(main_file):
                where = "an interactive session or notebook" if main_file is None else f"read from {main_file}"
                raise TypeError(MSG_MAIN_NOT_IMPORTABLE.format(kind=self.kind, name=cls.__qualname__, where=where))
        try:
            return pickle.dumps(self.dataset, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            path, culprit, error = find_unpicklable(self.dataset, self.kind.lower())
            where = f"the {self.kind} itself" if path == self.kind.lower() else f"`{path}`"
            raise TypeError(MSG_UNPICKLABLE.format(
                kind=self.kind, culprit=f"{where} ({_describe(culprit)})", reason=error or exc,
            )) from exc

    def _start_processes(self, payload, digest):
        resources = self._resources
        resources.version += 1
        resources.digest = digest
        resources.state_path = None
        all_submitted = self._context.Event()
        resources.executor = concurrent.futures.ProcessPoolExecutor(
            max_workers=self._size, mp_context=self._context, initializer=_initialize_process,
            initargs=(payload, resources.version, self._worker_setup, self.kind, all_submitted),
        )
        # Processes start on demand, one per submitted task while none is idle: start them all now,
        # with SIGINT ignored.
        with _sigint_ignored():
            for _ in range(self._size):
                resources.executor.submit(_warm_up)
        all_submitted.set()

    def _write_state(self, payload, digest):
        resources = self._resources
        if resources.state_dir is None:
            resources.state_dir = tempfile.mkdtemp(prefix="ember-workers-")
        previous = resources.state_path
        resources.version += 1
        resources.digest = digest
        path = os.path.join(resources.state_dir, f"state-{resources.version}.pickle")
        with open(path + ".partial", "wb") as file:
            file.write(payload)
        os.replace(path + ".partial", path)
        resources.state_path = path
        if previous is not None:
            # Every task of the previous pass has finished: passes never overlap.
            os.remove(previous)

    def _target(self, index):
        return f"{type(self.dataset).__qualname__}[{index!r}]"

    def _result(self, index, future):
        try:
            return future.result()
        except concurrent.futures.BrokenExecutor as exc:
            raise WorkerError(MSG_WORKER_DIED.format(target=self._target(index))) from exc
        except concurrent.futures.CancelledError as exc:
            raise RuntimeError(f"Loading {self._target(index)} was cancelled because the pool was closed.") from exc
        except Exception as exc:
            exc.add_note(f"Raised by {self._target(index)} in a worker {_WORKER_NOUN[self.mode]}.")
            raise

    def _wait_for(self, futures):
        """Wait (bounded) for loads already running; False if some did not finish in time."""
        try:
            _, not_done = concurrent.futures.wait(futures, timeout=_DRAIN_TIMEOUT_S)
        except BaseException:
            self._resources.release(hard=True)
            raise
        return not not_done

    def _abandon(self, pending):
        # The consumer stopped early: drop what has not started; let what has finish, so no load of
        # this pass overlaps the next pass or the caller's on_epoch_end.
        running = [future for _, future in pending if not future.cancel()]
        if running and not self._wait_for(running):
            self._resources.release(hard=True)

    def _stop_after_error(self, pending):
        for _, future in pending:
            future.cancel()
        if self.mode == "threads":  # threads cannot be killed: let running loads finish, then join them
            finished = self._wait_for([future for _, future in pending])
            self._resources.release(hard=not finished)
        else:
            self._resources.release(hard=True)
