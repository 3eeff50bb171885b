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
"""
import os

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
