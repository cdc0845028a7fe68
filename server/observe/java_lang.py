"""The standard ``java.lang`` MBeans over the Python process's own figures, so JVM dashboards and Jolokia
clients (hawtio, Telegraf's jolokia2, Grafana JVM panels) get answers from ``/jolokia`` instead of 404.

CPython has no bounded, garbage-collected heap like the JVM's, so each value says what it really is:

* ``Memory.HeapMemoryUsage``: ``used`` = resident *anonymous* memory (``RssAnon``: Python objects,
  pymalloc arenas, the C heap, thread stacks); ``committed`` = that plus swapped-out anonymous memory
  (``VmSwap``); ``max`` = the address-space limit (``RLIMIT_AS``) or -1 when unlimited; ``init`` = -1.
  It is not the total RSS (file-backed pages are in NonHeapMemoryUsage), nor an allocator count.
* ``Memory.NonHeapMemoryUsage``: resident file-backed and shared memory (``RssFile`` + ``RssShmem``: the
  interpreter, extension modules, mapped files); ``init`` and ``max`` = -1.
* ``Threading``: ``ThreadCount`` = OS threads of the process (``/proc/self/status``), ``DaemonThreadCount``
  = Python daemon threads, ``PeakThreadCount`` = the highest ThreadCount seen by a read since start.
* ``Runtime``: ``VmName``/``VmVendor``/``VmVersion`` name the Python implementation; ``InputArguments``
  is the interpreter's command line after the executable; ``Uptime``/``StartTime`` in ms since the server
  started.
* ``OperatingSystem``: open/max file descriptors, ``ProcessCpuTime`` (ns, user + system),
  ``SystemLoadAverage`` (1 min), ``AvailableProcessors`` (CPUs this process may run on).
* ``name=gen0|gen1|gen2,type=GarbageCollector``: ``CollectionCount`` per CPython GC generation;
  ``CollectionTime`` = -1 (not measured, the JVM's "undefined").
"""

from __future__ import annotations

import gc
import os
import platform
import resource
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tigase_py.server.core.server import Server

LONG, INT, DOUBLE, STRING, BOOLEAN = "long", "int", "double", "java.lang.String", "boolean"
STRINGS = "[Ljava.lang.String;"
COMPOSITE = "javax.management.openmbean.CompositeData"
VENDORS = {"CPython": "Python Software Foundation", "PyPy": "PyPy project"}
UNDEFINED = -1


@dataclass(frozen=True, slots=True)
class Attribute:
    type: str
    desc: str
    read: Callable[[], Any]


Bean = dict[str, Attribute]


def proc_status() -> dict[str, int]:
    """The ``kB`` and count fields of ``/proc/self/status``, in bytes for sizes."""
    fields: dict[str, int] = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            name, _, rest = line.partition(":")
            parts = rest.split()
            if len(parts) == 2 and parts[1] == "kB":
                fields[name] = int(parts[0]) * 1024
            elif len(parts) == 1 and parts[0].isdigit():
                fields[name] = int(parts[0])
    return fields


def _limit(kind: int) -> int:
    soft = resource.getrlimit(kind)[0]
    return UNDEFINED if soft == resource.RLIM_INFINITY else int(soft)


def heap_usage() -> dict[str, int]:
    status = proc_status()
    used = status.get("RssAnon", 0)
    return {
        "init": UNDEFINED,
        "used": used,
        "committed": used + status.get("VmSwap", 0),
        "max": _limit(resource.RLIMIT_AS),
    }


def non_heap_usage() -> dict[str, int]:
    status = proc_status()
    used = status.get("RssFile", 0) + status.get("RssShmem", 0)
    return {"init": UNDEFINED, "used": used, "committed": used, "max": UNDEFINED}


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _meminfo(field: str) -> int:
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        for line in meminfo:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return UNDEFINED


def collector_bean(generation: int) -> Bean:
    def count() -> int:
        return int(gc.get_stats()[generation]["collections"])

    return {
        "CollectionCount": Attribute(LONG, f"collections of CPython GC generation {generation}", count),
        "CollectionTime": Attribute(LONG, "not measured: -1", lambda: UNDEFINED),
        "Name": Attribute(STRING, "generation", lambda: f"gen{generation}"),
        "Valid": Attribute(BOOLEAN, "always true", lambda: True),
    }


class JavaLang:
    """The beans of one server; keeps the thread peak between reads."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.peak_threads = 0

    def thread_count(self) -> int:
        count = proc_status().get("Threads", threading.active_count())
        self.peak_threads = max(self.peak_threads, count)
        return count

    def beans(self) -> dict[str, Bean]:
        started = self.server.started_at
        usage = resource.getrusage
        memory_desc = "Python process memory, not a JVM heap: see the README (Jolokia and java.lang beans)"
        beans: dict[str, Bean] = {
            "java.lang:type=Memory": {
                "HeapMemoryUsage": Attribute(
                    COMPOSITE,
                    "used = RssAnon; committed = RssAnon + VmSwap; max = RLIMIT_AS or -1. " + memory_desc,
                    heap_usage,
                ),
                "NonHeapMemoryUsage": Attribute(
                    COMPOSITE, "used = committed = RssFile + RssShmem. " + memory_desc, non_heap_usage
                ),
                "ObjectPendingFinalizationCount": Attribute(INT, "always 0 (no finalizer queue)", lambda: 0),
                "Verbose": Attribute(BOOLEAN, "always false", lambda: False),
            },
            "java.lang:type=Threading": {
                "ThreadCount": Attribute(INT, "OS threads of the process", self.thread_count),
                "PeakThreadCount": Attribute(
                    INT, "highest ThreadCount seen by a read", lambda: max(self.thread_count(), self.peak_threads)
                ),
                "DaemonThreadCount": Attribute(
                    INT, "Python daemon threads", lambda: sum(1 for t in threading.enumerate() if t.daemon)
                ),
            },
            "java.lang:type=Runtime": {
                "Uptime": Attribute(LONG, "ms since the server started", lambda: int((time.time() - started) * 1000)),
                "StartTime": Attribute(LONG, "server start, ms since the epoch", lambda: int(started * 1000)),
                "VmName": Attribute(STRING, "Python implementation", platform.python_implementation),
                "VmVendor": Attribute(
                    STRING, "its vendor", lambda: VENDORS.get(platform.python_implementation(), "unknown")
                ),
                "VmVersion": Attribute(STRING, "Python version", platform.python_version),
                "SpecVersion": Attribute(
                    STRING, "Python language version", lambda: f"{sys.version_info.major}.{sys.version_info.minor}"
                ),
                "Name": Attribute(STRING, "pid@host", lambda: f"{os.getpid()}@{socket.gethostname()}"),
                "Pid": Attribute(LONG, "process id", os.getpid),
                "InputArguments": Attribute(
                    STRINGS, "interpreter command line after the executable", lambda: list(sys.orig_argv[1:])
                ),
            },
            "java.lang:type=OperatingSystem": {
                "OpenFileDescriptorCount": Attribute(LONG, "open fds", lambda: len(os.listdir("/proc/self/fd"))),
                "MaxFileDescriptorCount": Attribute(LONG, "soft RLIMIT_NOFILE", lambda: _limit(resource.RLIMIT_NOFILE)),
                "ProcessCpuTime": Attribute(
                    LONG,
                    "user + system CPU time, ns",
                    lambda: int((usage(resource.RUSAGE_SELF).ru_utime + usage(resource.RUSAGE_SELF).ru_stime) * 1e9),
                ),
                "SystemLoadAverage": Attribute(DOUBLE, "1-minute load average", lambda: os.getloadavg()[0]),
                "AvailableProcessors": Attribute(INT, "CPUs this process may run on", _cpus),
                "TotalPhysicalMemorySize": Attribute(LONG, "MemTotal", lambda: _meminfo("MemTotal")),
                "FreePhysicalMemorySize": Attribute(LONG, "MemFree", lambda: _meminfo("MemFree")),
                "Name": Attribute(STRING, "OS name", platform.system),
                "Arch": Attribute(STRING, "machine", platform.machine),
                "Version": Attribute(STRING, "kernel release", platform.release),
            },
        }
        for generation in range(3):
            # JMX canonical form: properties in key order, as Jolokia's search lists them
            beans[f"java.lang:name=gen{generation},type=GarbageCollector"] = collector_bean(generation)
        return beans
