"""Shared by the Python contenders: CPU time of this process and the result lines every contender prints."""
import json
import resource
import time


def cpu_seconds():
    """User + system CPU time of this process (all threads) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Meter:
    """Wall and CPU time from start() to stop()."""

    def start(self):
        self.wall, self.cpu = time.monotonic(), cpu_seconds()

    def stop(self):
        self.wall, self.cpu = time.monotonic() - self.wall, cpu_seconds() - self.cpu


def report(step, messages, size, meter):
    """The human line the C programs print, then the machine-readable line the suite parses."""
    rate = messages / meter.wall if meter.wall > 0 else 0.0
    print(f"{step}: {messages} messages in {meter.wall:.3f} s = {rate:.0f} msg/s")
    print(json.dumps({
        "side": "python", "step": step, "messages": messages, "size": size,
        "msgPerSec": round(rate, 1), "cpuNsPerMsg": round(meter.cpu * 1e9 / max(1, messages), 1),
    }), flush=True)
