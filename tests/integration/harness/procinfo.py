"""What /proc says about a process of the system under test: its status
fields and its threads' scheduling policies. No imports from the harness,
so tests that load harness modules by path (test_scand) can load it too."""
import os

SCHED_OTHER, SCHED_BATCH = 0, 3


def proc_status(pid):
    """/proc/<pid>/status as {field: [values]} (Uid: real, effective, saved, fs)."""
    with open("/proc/%d/status" % pid) as f:
        return {k: v.split() for k, _, v in (line.partition(":") for line in f)}


def task_policies(pid):
    """{tid: scheduling policy} of every thread of pid (/proc stat field 41):
    SCHED_OTHER (0), SCHED_BATCH (3), ..."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        out[int(tid)] = int(fields[38])  # field 41: policy (fields from 3 on)
    return out
