"""PAM without system configuration: pam_wrapper (libpam-wrapper) makes a
process read its PAM service files from a directory of the test's own
instead of /etc/pam.d, so pamtester, or the gateway, runs real libpam with
our module (pam_sekisho_userdb.so) or any other, and the suite needs no
system accounts and leaves /etc/pam.d alone (see `man pam_wrapper`).

    d = os.path.join(workdir, "pam.d")
    write_service(d, "sekisho_smtp", service_text(db_path))
    subprocess.run(["pamtester", "sekisho_smtp", "alice", "authenticate"],
                   input="alice-pw\\n", env=pam_env(d), ...)

pam_syslog lines of the modules go to the process's stderr as
"PWRAP_ERROR[...] - SYSLOG(3): <text>" (LOG_DEBUG ones "PWRAP_DEBUG ...
SYSLOG(7)" with debug_level=2).

A test's user database and service directory in one call:

    d = pam.userdb_service_dir(workdir, [("alice", "alice-pw")], ["sekisho_smtp"])
"""
import os
import subprocess

import harness

# The name of each service file is the PAM service (AUTH-1).
SERVICES = ("sekisho_http", "sekisho_smtp", "sekisho_pop", "sekisho_ftp")


def module_path():
    """The PAM module of the build under test (built without sanitizers in
    build-san too, so that uninstrumented PAM applications can load it)."""
    return os.path.join(harness.BUILD, "lib", "pam_sekisho_userdb.so")


def service_text(db, module=None, debug=False, extra=""):
    """A service file using module (ours by default) with db=<db> for auth
    and account, as conf/pam/sekisho_<svc>.pam is once installed."""
    args = "db=%s%s%s" % (db, " debug" if debug else "", (" " + extra) if extra else "")
    module = module or module_path()
    return "auth required %s %s\naccount required %s %s\n" % (module, args, module, args)


def write_service(directory, name, text):
    """Write the service file <directory>/<name> (the directory is created);
    returns its path."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def create_userdb(path, entries):
    """Build the user database path with the build's create_userdb from
    entries, (name, password) pairs in order (AUTH-2 text: a name line then
    a password line, "" for a POP/FTP entry), readable by the unprivileged
    user the workers (where our module runs) have become; returns path."""
    text = "".join("%s\n%s\n" % kv for kv in entries)
    r = subprocess.run([os.path.join(harness.BIN, "create_userdb"), path],
                       input=text.encode("utf-8"), capture_output=True,
                       timeout=120 * harness.SLOW)
    if r.returncode != 0:
        raise AssertionError("create_userdb %s: %s" % (path, r.stderr.decode(errors="replace")))
    os.chmod(path, 0o644)
    return path


def service_dir(directory, db, services):
    """The service directory directory (created) holding a file per name in
    services using our module on db (none at all for no services: PAM then
    finds no service), all readable by the workers; returns directory."""
    os.makedirs(directory, exist_ok=True)
    os.chmod(directory, 0o755)
    for name in services:
        os.chmod(write_service(directory, name, service_text(db)), 0o644)
    return directory


def userdb_service_dir(workdir, entries, services):
    """<workdir>/userdb.db built from entries (see create_userdb) and the
    service directory <workdir>/pam.d whose services use our module on it
    (see service_dir); returns the service directory, for pam_env."""
    db = create_userdb(os.path.join(workdir, "userdb.db"), entries)
    return service_dir(os.path.join(workdir, "pam.d"), db, services)


def pam_env(service_dir, base=None, debug_level=None):
    """The environment (a copy of base, default os.environ) in which a
    process's PAM services are the files of service_dir. debug_level 2
    makes pam_wrapper print the modules' LOG_DEBUG lines on stderr too.
    For an ASan-instrumented process (the gateway of build-san), ASan must
    accept a preloaded library ahead of its runtime and pam_wrapper must not
    use RTLD_DEEPBIND (`man pam_wrapper`: PAM_WRAPPER_DISABLE_DEEPBIND, which
    Debian 12's pam_wrapper 1.1.4 reads as UID_WRAPPER_DISABLE_DEEPBIND);
    uninstrumented processes ignore these."""
    env = dict(os.environ if base is None else base)
    preload = [p for p in env.get("LD_PRELOAD", "").split(":") if p]
    env["LD_PRELOAD"] = ":".join(["libpam_wrapper.so"] + preload)
    env["PAM_WRAPPER"] = "1"
    env["PAM_WRAPPER_SERVICE_DIR"] = service_dir
    if debug_level is not None:
        env["PAM_WRAPPER_DEBUGLEVEL"] = str(debug_level)
    if harness.SANITIZED:
        env["PAM_WRAPPER_DISABLE_DEEPBIND"] = "1"
        env["UID_WRAPPER_DISABLE_DEEPBIND"] = "1"
        opts = env.get("ASAN_OPTIONS", "")
        env["ASAN_OPTIONS"] = (opts + ":" if opts else "") + "verify_asan_link_order=0"
    return env
