"""PAM for the gateway under test, without system accounts or /etc/pam.d.

What it does: runs the gateway's PAM calls under pam_wrapper (Debian
libpam-wrapper: LD_PRELOAD=libpam_wrapper.so with PAM_WRAPPER=1 makes libpam
read its service files from PAM_WRAPPER_SERVICE_DIR instead of /etc/pam.d)
and checks passwords with pam_matrix, pam_wrapper's test module, which reads
a plain "user:password:service" file (the passdb). A test describes its
users as a dict and gets the environment to start the gateway with; nothing
outside the test's directory is touched.

backend(directory, users, ...) is the one entry point the proxy tests use:
when the project's own module (pam_sekisho_userdb, harness/pam.py) is the
backend of choice, only that function changes.

What to know:
- pam_wrapper copies the service files into a private directory when the
  process starts: a service file written (or removed) later is not seen
  until the gateway restarts. The passdb is read by pam_matrix at each
  check, so editing it takes effect at once.
- The workers run as the unprivileged run_user: the directory and its files
  are made world-readable (and the directory traversable).
- Module paths in pam_wrapper service files must be absolute.
- Under a sanitizer build (build-san) two more variables are needed, both
  found by trying (see pam_env): ASAN_OPTIONS=verify_asan_link_order=0,
  since libpam_wrapper.so is preloaded before the ASan runtime (without it
  sekisho exits at once: "ASan runtime does not come first in initial
  library list"); and pam_wrapper's switch that stops it from loading
  libpam with RTLD_DEEPBIND, which ASan refuses ("You are trying to dlopen
  ... libpam.so.0 ... with RTLD_DEEPBIND flag", every check fails). Debian
  12's pam_wrapper 1.1.4 reads that switch under the name
  UID_WRAPPER_DISABLE_DEEPBIND (a copy of uid_wrapper's code); pam_wrapper(1)
  and later versions call it PAM_WRAPPER_DISABLE_DEEPBIND: both are set.
"""
import glob
import os

from . import SANITIZED

SERVICE_HTTP = "sekisho_http"   # proxy_auth_service("http") for a binary named sekisho


def _lib_dirs():
    return sorted(glob.glob("/usr/lib/*-linux-gnu")) + ["/usr/lib", "/lib"]


def wrapper_library():
    """The path of libpam_wrapper.so, or None."""
    for d in _lib_dirs():
        p = os.path.join(d, "libpam_wrapper.so")
        if os.path.exists(p):
            return p
    return None


def matrix_module():
    """The absolute path of pam_matrix.so, or None."""
    for d in _lib_dirs():
        p = os.path.join(d, "pam_wrapper", "pam_matrix.so")
        if os.path.exists(p):
            return p
    return None


def system_module(name):
    """The absolute path of a stock Linux-PAM module (pam_exec.so), or None."""
    for d in _lib_dirs():
        p = os.path.join(d, "security", name)
        if os.path.exists(p):
            return p
    return None


def available():
    """None when the gateway can be run under pam_wrapper here, else why not."""
    if not wrapper_library():
        return "libpam_wrapper.so is not installed (Debian package libpam-wrapper)"
    if not matrix_module():
        return "pam_matrix.so is not installed (Debian package libpam-wrapper)"
    if not system_module("pam_exec.so"):
        return "pam_exec.so is not installed (Debian package libpam-modules)"
    return None


def write_service(directory, name, text):
    """directory/name: a PAM service file (world-readable); returns its path."""
    os.makedirs(directory, exist_ok=True)
    os.chmod(directory, 0o755)
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)
    return path


def write_passdb(path, users, service=SERVICE_HTTP):
    """pam_matrix's password file: one "user:password:service" line per
    entry of users (a dict user -> password); returns path."""
    with open(path, "w") as f:
        for user, password in users.items():
            if any(c in user + password + service for c in ":\n"):
                raise ValueError("pam_matrix cannot hold ':' or a newline: %r" % user)
            f.write("%s:%s:%s\n" % (user, password, service))
    os.chmod(path, 0o644)
    return path


def write_script(path, text):
    """An executable shell script for pam_exec (run by the worker's user)."""
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + text)
    os.chmod(path, 0o755)
    return path


def pam_env(service_dir):
    """The environment variables that run a process's PAM under pam_wrapper
    with the service files of service_dir."""
    env = {"LD_PRELOAD": wrapper_library(), "PAM_WRAPPER": "1",
           "PAM_WRAPPER_SERVICE_DIR": service_dir}
    if SANITIZED:
        env["PAM_WRAPPER_DISABLE_DEEPBIND"] = "1"
        env["UID_WRAPPER_DISABLE_DEEPBIND"] = "1"
        env["ASAN_OPTIONS"] = ":".join(
            o for o in (os.environ.get("ASAN_OPTIONS", ""), "verify_asan_link_order=0") if o)
    return env


def backend(directory, users, service=SERVICE_HTTP, pre_auth=(), passdb=True, service_file=True):
    """A PAM service for the gateway in directory: users (user -> password)
    may log in to service. pre_auth: extra "auth" lines put before the
    password check (e.g. a pam_exec line). passdb=False leaves the password
    file out and service_file=False the service file (PAM unavailable).
    Returns the environment to give harness.Gateway(env=...)."""
    os.makedirs(directory, exist_ok=True)
    os.chmod(directory, 0o755)
    db = os.path.join(directory, "passdb")
    if passdb:
        write_passdb(db, users, service)
    module = matrix_module()
    lines = list(pre_auth)
    lines.append("auth required %s passdb=%s" % (module, db))
    lines.append("account required %s passdb=%s" % (module, db))
    if service_file:
        write_service(directory, service, "\n".join(lines) + "\n")
    return pam_env(directory)


def exec_line(script, control="requisite"):
    """An auth line running script through pam_exec (PAM_USER in its
    environment); quiet: its failure prints nothing to the client."""
    return "auth %s %s quiet %s" % (control, system_module("pam_exec.so"), script)
