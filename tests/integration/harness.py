"""The stack the integration tests run against: a throwaway PostgreSQL
cluster, certificates from tools/mkcerts.sh, the demo data, and ecadmd on
a free loopback port. One stack serves every test module of a run; tests
that change shared state (a lockout, a disabled account) make their own
staff accounts.

ECADM_BUILD names the build directory (build, or build-san for the
sanitizer run); the daemons' logs are scanned for sanitizer reports.
"""

import atexit
import email
import email.policy
import glob
import json
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import time
import urllib.parse
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("ECADM_BUILD", "build"))
PYTHON = "/usr/bin/python3"
SANITIZER_RE = re.compile(r"ERROR: (Address|Leak)Sanitizer|runtime error:|"
                          r"WARNING: ThreadSanitizer")

# The demo extraction: two schools (the second to prove scopes).
SCHOOL_A = "0330001X"
SCHOOL_B = "0330002Y"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bindir():
    dirs = sorted(d for d in os.listdir("/usr/lib/postgresql")
                  if os.path.isdir(os.path.join("/usr/lib/postgresql", d, "bin")))
    return os.path.join("/usr/lib/postgresql", dirs[-1], "bin")


def descendants(pid):
    """The pids below pid, children first (from /proc)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            with open("/proc/%d/task/%d/children" % (p, p)) as f:
                kids = [int(k) for k in f.read().split()]
        except OSError:
            continue
        found += kids
        todo += kids
    return found


def sanitizer_report(text):
    """The first lines of a sanitizer report in text, or None."""
    m = SANITIZER_RE.search(text)
    if m is None:
        return None
    return text[max(0, m.start() - 200):m.start() + 2000]


class Daemon:
    """A running ecadmd with its config and log."""

    def __init__(self, stack, name, port, extra="", wrapper=(), debug=True):
        self.stack = stack
        self.name = name
        self.wrapper = list(wrapper)	# e.g. prlimit and its options
        # debug: a log line for every request (the tests read them);
        # benchmarks measure the default logging.
        self.debug = debug
        self.port = port
        self.config = os.path.join(stack.dir, name + ".ini")
        self.log = os.path.join(stack.dir, name + ".log")
        with open(self.config, "w") as f:
            f.write(stack.config_text(port) + extra)
        self.proc = None

    def start(self):
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            self.wrapper +
            [os.path.join(BUILD, "ecadmd")] + (["-d"] if self.debug else [])
            + ["-c", self.config, "serve"],
            stdout=logf, stderr=logf, env=self.stack.env())
        logf.close()
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("ecadmd exited: " + self.read_log())
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("ecadmd did not listen: " + self.read_log())

    def stop(self, timeout=30):
        """SIGTERM, wait; returns the exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def kill(self):
        """SIGKILL, as a crash would: nothing finished, nothing cleaned
        up; returns the exit status."""
        self.proc.kill()
        return self.proc.wait()

    def read_log(self, since=0):
        """The log from byte offset since (log_size() taken earlier)."""
        with open(self.log, "rb") as f:
            f.seek(since)
            return f.read().decode(errors="replace")

    def log_size(self):
        return os.path.getsize(self.log)


class Guichet:
    """A running ecadm-guichet talking to a stack's ecadmd with the guichet
    client certificate; extra is appended to its INI file."""

    def __init__(self, stack, name="guichet", extra="", server_port=None,
                 threads=2, port=None):
        self.stack = stack
        # port: chosen beforehand when ecadmd must print its address
        self.port = port or free_port()
        self.config = os.path.join(stack.dir, name + ".ini")
        self.log = os.path.join(stack.dir, name + ".log")
        self.key_file = os.path.join(stack.dir, name + "-csrf.key")
        with open(self.config, "w") as f:
            f.write("[http]\nlisten = 127.0.0.1:%d\nthreads = %d\n"
                    "csrf_key_file = %s\n%s"
                    "[ecadmd]\nserver = 127.0.0.1:%d\nca = %s/ca.crt\n"
                    "certificate = %s/guichet.crt\nkey = %s/guichet.key\n"
                    "timeout = 10\n[log]\ndebug = yes\n"
                    % (self.port, threads, self.key_file, extra,
                       server_port or stack.main.port, stack.tls,
                       stack.tls, stack.tls))
        self.proc = None

    def start(self):
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [os.path.join(BUILD, "ecadm-guichet"), "-c", self.config],
            stdout=logf, stderr=logf, env=self.stack.env())
        logf.close()
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("ecadm-guichet exited: " + self.read_log())
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("ecadm-guichet did not listen: " + self.read_log())

    def stop(self, timeout=30):
        """SIGTERM, wait; returns the exit status."""
        return Daemon.stop(self, timeout)

    def read_log(self):
        with open(self.log, errors="replace") as f:
            return f.read()


class Sshd:
    """A running ecadm-sshd in front of a stack's ecadmd, with the sshd
    client certificate, its own host key and documents folder; extra is
    added to its [ssh] section."""

    def __init__(self, stack, name="sshd", extra="", session_extra=""):
        self.stack = stack
        self.name = name
        self.port = free_port()
        self.config = os.path.join(stack.dir, name + ".ini")
        self.log = os.path.join(stack.dir, name + ".log")
        self.host_key = os.path.join(stack.dir, name + "-host-key")
        self.documents = os.path.join(stack.dir, name + "-documents")
        with open(self.config, "w") as f:
            f.write("[ssh]\nlisten = 127.0.0.1:%d\nhost_key = %s\n%s"
                    "[session]\necadm = %s\ndocuments = %s\n%s"
                    "[ecadmd]\nserver = 127.0.0.1:%d\nca = %s/ca.crt\n"
                    "certificate = %s/sshd.crt\nkey = %s/sshd.key\n"
                    "timeout = 10\n[log]\ndebug = yes\n"
                    % (self.port, self.host_key, extra,
                       os.path.join(BUILD, "ecadm"), self.documents,
                       session_extra, stack.main.port, stack.tls,
                       stack.tls, stack.tls))
        self.proc = None

    def start(self):
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [os.path.join(BUILD, "ecadm-sshd"), "-c", self.config],
            stdout=logf, stderr=logf, env=self.stack.env())
        logf.close()
        # Its log, not a probe: a connection that never authenticates
        # counts against the address.
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("ecadm-sshd exited: " + self.read_log())
            if "listening on 127.0.0.1:%d" % self.port in self.read_log():
                return self
            time.sleep(0.05)
        raise RuntimeError("ecadm-sshd did not listen: " + self.read_log())

    def stop(self, timeout=30):
        """SIGTERM, wait; returns the exit status."""
        return Daemon.stop(self, timeout)

    def read_log(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def folder(self, login):
        return os.path.join(self.documents, login)

    def client_options(self, key, batch=True):
        """The OpenSSH options every client of this gateway takes: this
        key alone, no agent, no known_hosts; batch: never prompt."""
        return ["-F", "/dev/null", "-i", key, "-o", "IdentitiesOnly=yes",
                "-o", "IdentityAgent=none", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                "-o", "BatchMode=%s" % ("yes" if batch else "no")]

    def ssh_args(self, key, login, *more, command=(), batch=True):
        """The ssh command line for this gateway: options, then the
        destination, then the remote command if any."""
        # ssh keeps the first value of an option: the test's come first.
        return (["ssh", "-p", str(self.port)] + list(more) +
                self.client_options(key, batch) +
                ["%s@127.0.0.1" % login] + list(command))

    def sftp(self, key, login, commands, cwd):
        """sftp -b with these commands; the CompletedProcess."""
        return subprocess.run(
            ["sftp", "-P", str(self.port)] + self.client_options(key) +
            ["-b", "-", "%s@127.0.0.1" % login], input=commands, text=True,
            capture_output=True, cwd=cwd, timeout=60)


HAPROXY_CFG = """global
	nbthread 1
	stats socket %(socket)s mode 600 level admin
	log stderr format iso local0 info

defaults
	mode tcp
	log global
	option tcplog
	option logasap
	timeout connect 2s
	timeout client 60s
	timeout server 60s
	timeout check 2s
	# A connection refused is tried again on another instance.
	retries 3
	option redispatch 1

frontend ecadm
	bind 127.0.0.1:%(port)d
	default_backend ecadmd

backend ecadmd
	balance roundrobin
	# A dead instance is out at its first failed check, back at its
	# first good one.
	default-server check inter 200ms fall 1 rise 1
%(servers)s"""


class HAProxy:
    """HAProxy in front of ecadmd instances (Daemons of one stack), in TCP
    mode: TLS passes through, so clients verify ecadmd's certificate as
    they would directly. Round robin, health checks every 200 ms, and
    redispatch of a connection refused. It runs in the foreground (-db)
    as a child of the test, its log in the stack's directory; its stats
    socket says what it thinks of each instance."""

    def __init__(self, stack, daemons, name="haproxy"):
        self.stack = stack
        self.port = free_port()
        self.config = os.path.join(stack.dir, name + ".cfg")
        self.log = os.path.join(stack.dir, name + ".log")
        self.socket = os.path.join(stack.dir, name + ".sock")
        servers = "".join("\tserver %s 127.0.0.1:%d\n" % (d.name, d.port)
                          for d in daemons)
        with open(self.config, "w") as f:
            f.write(HAPROXY_CFG % {"socket": self.socket, "port": self.port,
                                   "servers": servers})
        self.proc = None

    def start(self):
        # Debian puts it in /usr/sbin, outside a user's PATH.
        exe = shutil.which("haproxy", path=os.environ.get("PATH", "") +
                           ":/usr/sbin:/sbin")
        if exe is None:
            raise RuntimeError("haproxy not found: install Debian's haproxy "
                               "package (make deps does)")
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen([exe, "-f", self.config, "-db"],
                                     stdout=logf, stderr=logf,
                                     env=self.stack.env())
        logf.close()
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("haproxy exited: " + self.read_log())
            try:
                self.servers()
                with socket.create_connection(("127.0.0.1", self.port), 0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("haproxy did not listen: " + self.read_log())

    def stop(self, timeout=30):
        """SIGTERM, wait; returns the exit status."""
        return Daemon.stop(self, timeout)

    def read_log(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def command(self, line):
        """A command on the stats socket; its answer."""
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(self.socket)
            s.sendall(line.encode() + b"\n")
            out = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return out.decode()
                out += chunk

    def servers(self):
        """{instance name: its status as the health checks see it}: UP,
        DOWN, "DOWN 1/1"..."""
        rows = self.command("show stat").splitlines()
        head = rows[0].lstrip("# ").split(",")
        found = {}
        for r in rows[1:]:
            cells = dict(zip(head, r.split(",")))
            if cells.get("pxname") == "ecadmd" and \
                    cells.get("svname") not in ("FRONTEND", "BACKEND"):
                found[cells["svname"]] = cells["status"]
        return found

    def wait_status(self, daemon, status, timeout=20):
        """Wait until HAProxy sees that Daemon UP (or DOWN)."""
        deadline = time.time() + timeout
        seen = None
        while time.time() < deadline:
            seen = self.servers().get(daemon.name)
            if seen is not None and seen.split()[0] == status:
                return
            time.sleep(0.05)
        raise AssertionError("haproxy: %s is %s, not %s after %ds" % (
            daemon.name, seen, status, timeout))


class Stack:
    """durable: PostgreSQL with fsync on (benchmarks); the tests run with
    fsync off, which changes nothing they check."""

    def __init__(self, durable=False, pg_tls=False):
        self.durable = durable
        # pg_tls: PostgreSQL also on 127.0.0.1 over TLS (pgbench baselines)
        self.pg_tls = pg_tls
        self.pg_password = "bench-" + os.urandom(6).hex()
        self.dir = tempfile.mkdtemp(prefix="ecadm-test-")
        # PostgreSQL runs as the postgres user when we are root: it must
        # be able to reach its directories.
        os.chmod(self.dir, 0o755)
        self.pg_port = free_port()
        self.pg_dir = os.path.join(self.dir, "pg")
        self.tls = os.path.join(self.dir, "tls")
        self.daemons = []
        self.users = {}
        self.demo_csv = os.path.join(self.dir, "demo.csv")
        # Mail of the stack's daemons: a Maildir of its own, and extra
        # [mail] keys (an SMTP relay) for a stack set up for that.
        self.maildir = os.path.join(self.dir, "mail")
        self.mail_ini = ""
        # Sections appended to every daemon's INI, set before setup() (a
        # stack of its own whose [documents] guichet_url is a test's).
        self.extra_ini = ""
        # tools/pgcluster.sh's environment: setup() adds its options.
        self.pg_env = self.env()

    # -- set-up ----------------------------------------------------------
    def env(self, **extra):
        e = dict(os.environ)
        e.update({"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
                  "ASAN_OPTIONS": "abort_on_error=0:detect_leaks=1",
                  "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"})
        for k in ("ECADM_SERVER", "ECADM_CA", "ECADM_USER", "ECADM_PASSWORD",
                  "ECADM_SCHOOL", "XDG_CONFIG_HOME"):
            e.pop(k, None)
        e["HOME"] = self.dir
        e.update(extra)
        return e

    def run(self, *args, **kw):
        return subprocess.run(args, check=True, capture_output=True,
                              env=self.env(), **kw)

    def database_url(self):
        return "postgresql:///ecadm?host=%s&port=%d&user=ecadm" % (
            os.path.join(self.pg_dir, "run"), self.pg_port)

    def config_text(self, port):
        # Tests check sessions at every request (expiry tests need it);
        # benchmarks keep the server's default.
        return (
            "[server]\nlisten = 127.0.0.1:%d\nworkers = 4\n"
            "[tls]\ncertificate = %s/server.crt\nkey = %s/server.key\n"
            "peer_ca = %s/peer-ca.crt\n"
            "[database]\nurl = %s\n"
            "[security]\nkey_file = %s/secret.key\nsession_check = %d\n"
            "[mail]\nmaildir = %s\n%s%s"
            % (port, self.tls, self.tls, self.tls, self.database_url(),
               self.dir, 10 if self.durable else 0, self.maildir,
               self.mail_ini, self.extra_ini))

    def setup(self, demo=True):
        os.makedirs(self.pg_dir)
        os.chmod(self.pg_dir, 0o755)
        self.run("sh", os.path.join(ROOT, "tools/mkcerts.sh"), self.tls)
        opts = "" if self.durable else ("-c fsync=off -c synchronous_commit=off"
                                        " -c full_page_writes=off")
        extra = {}
        if self.pg_tls:
            # The server's key must belong to the user PostgreSQL runs as.
            for name in ("server.crt", "server.key"):
                shutil.copy(os.path.join(self.tls, name),
                            os.path.join(self.pg_dir, name))
                if os.getuid() == 0:
                    shutil.chown(os.path.join(self.pg_dir, name), "postgres",
                                 "postgres")
            opts += (" -c ssl=on -c ssl_cert_file=%s/server.crt"
                     " -c ssl_key_file=%s/server.key" % (self.pg_dir,
                                                          self.pg_dir))
            extra["PGCLUSTER_TCP"] = "1"
        self.pg_env = self.env(PGCLUSTER_OPTS=opts, **extra)
        self.pgcluster("init")
        self.pgcluster("start")
        if self.pg_tls:
            subprocess.run([os.path.join(pg_bindir(), "psql"), "-X", "-q",
                            "-h", os.path.join(self.pg_dir, "run"), "-p",
                            str(self.pg_port), "-U", "postgres", "-d",
                            "postgres", "-c", "alter role ecadm password '%s'"
                            % self.pg_password], check=True,
                           capture_output=True, env=self.env())
        self.main = Daemon(self, "ecadmd", free_port())
        self.run(os.path.join(BUILD, "ecadmd"), "-c", self.main.config,
                 "migrate")
        out = self.run(os.path.join(BUILD, "ecadmd"), "-c", self.main.config,
                       "init-admin", "admin").stdout.decode().split()
        self.users["admin"] = out[1]
        self.main.start()
        self.daemons.append(self.main)
        if not demo:
            return self
        self.run(PYTHON, os.path.join(ROOT, "tools/gen-onde.py"),
                 "--schools", "2", "--pupils", "240", "-o", self.demo_csv)
        res = self.ctl("import", self.demo_csv, user="admin")
        assert res.returncode == 0, res.stderr
        self.add_staff("dir.a", "directeur", [SCHOOL_A], "Anne Directrice")
        self.add_staff("dir.b", "directeur", [SCHOOL_B], "Bruno Directeur")
        self.add_staff("help", "assistance", [], "Hélène Assistance")
        return self

    def add_staff(self, login, role, schools, name):
        args = ["staff", "add", login, "--role", role, "--name", name]
        for s in schools:
            args += ["--school", s]
        res = self.ctl(*args, user="admin", json=True)
        assert res.returncode == 0, res.stderr
        self.users[login] = json.loads(res.stdout)["password"]

    def pgcluster(self, action, check=True):
        """tools/pgcluster.sh on the stack's cluster (init, start, stop,
        status), with the options setup() chose."""
        return subprocess.run(["sh", os.path.join(ROOT, "tools/pgcluster.sh"),
                               self.pg_dir, str(self.pg_port), action],
                              check=check, env=self.pg_env,
                              capture_output=True)

    # -- use -------------------------------------------------------------
    def ctl(self, *args, user=None, password=None, json=False, port=None,
            env=None, input=None, timeout=120):
        """Run ecadmctl; returns the CompletedProcess (text)."""
        cmd = [os.path.join(BUILD, "ecadmctl"), "--server",
               "127.0.0.1:%d" % (port or self.main.port), "--ca",
               os.path.join(self.tls, "ca.crt")]
        e = self.env()
        if user is not None:
            cmd += ["--user", user]
            e["ECADM_PASSWORD"] = password if password is not None \
                else self.users[user]
        if json:
            cmd.append("--json")
        if env:
            e.update(env)
        res = subprocess.run(cmd + list(args), capture_output=True,
                             text=True, env=e, input=input, timeout=timeout)
        report = sanitizer_report(res.stderr)
        if report:
            raise AssertionError("sanitizer report from ecadmctl:\n" + report)
        return res

    def ctl_json(self, *args, user="dir.a", **kw):
        res = self.ctl(*args, user=user, json=True, **kw)
        if res.returncode != 0:
            raise AssertionError("ecadmctl %s exited %d: %s" % (
                " ".join(args), res.returncode, res.stderr))
        return json.loads(res.stdout)

    def import_rows(self, rows, name="import.csv"):
        """Import an extraction built with line(); returns the summary."""
        path = os.path.join(self.dir, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(csv_text(rows))
        res = self.ctl("import", path, user="admin", json=True)
        assert res.returncode == 0, res.stderr
        return json.loads(res.stdout)

    def psql(self, sql, check=True):
        """Run SQL as the server's role; returns (returncode, out, err)."""
        res = subprocess.run([os.path.join(pg_bindir(), "psql"), "-X", "-q",
                              "-A", "-t", "-v", "ON_ERROR_STOP=1",
                              self.database_url(), "-c", sql],
                             capture_output=True, text=True, env=self.env())
        if check and res.returncode != 0:
            raise AssertionError("psql failed: %s\n%s" % (sql, res.stderr))
        return res.returncode, res.stdout.strip(), res.stderr

    def delivered(self, outbox_id, timeout=30):
        """The message of an outbox row once the mailer delivered it to
        the stack's Maildir (found by its Message-ID, which starts with
        the row's id): (email.message.EmailMessage, its text part)."""
        prefix = "<%s." % outbox_id
        deadline = time.time() + timeout
        while time.time() < deadline:
            for path in glob.glob(os.path.join(self.maildir, "new", "*")):
                with open(path, "rb") as f:
                    msg = email.message_from_binary_file(
                        f, policy=email.policy.default)
                if msg["Message-ID"].startswith(prefix):
                    return msg, msg.get_body(("plain",)).get_content()
            time.sleep(0.1)
        raise AssertionError("outbox %s: no message in %s" % (
            outbox_id, self.maildir))

    def mails(self, login, kind, timeout=30):
        """The mails of that kind for the account, oldest first, as the
        parent reads them: (recipient, {"token", "login", "link"} as found
        in the text). Tokens exist in clear nowhere else."""
        _, out, _ = self.psql(
            "select o.id || '|' || o.recipient from outbox o join accounts a"
            " on a.id = o.account_id where a.login = '%s' and o.kind = '%s'"
            " order by o.id" % (login, kind))
        found = []
        for line_ in out.splitlines():
            oid, recipient = line_.split("|", 1)
            msg, text = self.delivered(oid, timeout)
            facts = {}
            m = re.search(r"jeton=([^\s]+)", text)
            if m:
                facts["token"] = urllib.parse.unquote(m.group(1))
            m = re.search(r"Votre identifiant : (\S+)", text)
            if m:
                facts["login"] = m.group(1)
            m = re.search(r"https?://\S+jeton=\S+", text)
            if m:
                facts["link"] = m.group(0)
            found.append((recipient, facts))
        return found

    def connect(self, port=None, cert=None, timeout=10):
        """A raw TLS socket to ecadmd, for protocol tests."""
        ctx = ssl.create_default_context(cafile=os.path.join(self.tls,
                                                             "ca.crt"))
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        if cert:
            ctx.load_cert_chain(os.path.join(self.tls, cert + ".crt"),
                                os.path.join(self.tls, cert + ".key"))
        raw = socket.create_connection(("127.0.0.1", port or self.main.port),
                                       timeout)
        return Client(ctx.wrap_socket(raw, server_hostname="127.0.0.1"))

    # -- tear-down -------------------------------------------------------
    def teardown(self):
        for d in self.daemons:
            d.stop()
        self.pgcluster("stop", check=False)
        if os.environ.get("ECADM_KEEP_TEST_DIR") is None:
            shutil.rmtree(self.dir, ignore_errors=True)


class Client:
    """The protocol spoken by hand: frames of JSON over TLS."""

    def __init__(self, sock):
        self.sock = sock
        self.next_id = 1

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, msg):
        data = json.dumps(msg).encode()
        self.sock.sendall(struct.pack(">I", len(data)) + data)

    def recv_exact(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise EOFError("connection closed")
            out += chunk
        return out

    def recv(self):
        (n,) = struct.unpack(">I", self.recv_exact(4))
        return json.loads(self.recv_exact(n))

    def call(self, op, **args):
        rid = self.next_id
        self.next_id += 1
        self.send({"id": rid, "op": op, "args": args})
        reply = self.recv()
        assert reply["id"] == rid, reply
        return reply

    def hello(self, version=1):
        return self.call("hello", version=version, client="tests")

    def login(self, user, password):
        return self.call("login", login=user, password=password)

    def closed(self, timeout=5):
        """Whether the server closed the connection (EOF within timeout)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                if not self.sock.recv(4096):
                    return True
        except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# -- ONDE extractions built line by line ---------------------------------
COLUMNS = ["uai", "ecole", "commune", "eleve_id", "nom_eleve",
           "prenom_eleve", "date_naissance", "ine", "statut", "classe",
           "niveau", "resp_id", "resp_civilite", "resp_nom", "resp_prenom",
           "resp_lien", "resp_legal", "resp_courriel", "resp_telephone"]


def uai(n):
    digits = "%07d" % n
    return digits + "ABCDEFGHJKLMNPRSTUVWXYZ"[int(digits) % 23]


def quote(v):
    if any(c in v for c in ';"\r\n'):
        return '"' + v.replace('"', '""') + '"'
    return v


def ine_for(pupil):
    """A well-formed INE of its own for each pupil id."""
    return "%010dK" % (zlib.crc32(pupil.encode()) % 10 ** 10)


def line(school, pupil, last, first, guardian=None, g_last="", g_first="",
         legal="oui", statut="admis_definitif", ine=None,
         classe="CP", niveau="CP", born="01/02/2019", email=""):
    return {"uai": school, "ecole": "École " + school, "commune": "Bordeaux",
            "eleve_id": pupil, "nom_eleve": last, "prenom_eleve": first,
            "date_naissance": born,
            "ine": ine_for(pupil) if ine is None else ine, "statut": statut,
            "classe": classe, "niveau": niveau, "resp_id": guardian or "",
            "resp_civilite": "Mme" if guardian else "",
            "resp_nom": g_last, "resp_prenom": g_first,
            "resp_lien": "mere" if guardian else "",
            "resp_legal": legal if guardian else "",
            "resp_courriel": email, "resp_telephone": ""}


def csv_text(rows, columns=COLUMNS, eol="\r\n"):
    out = [";".join(columns)]
    for r in rows:
        out.append(";".join(quote(r.get(c, "")) for c in columns))
    return eol.join(out) + eol



def pdf_pages(path):
    """The text of each page of a PDF, read back with pdftotext."""
    res = subprocess.run(["pdftotext", "-layout", path, "-"],
                         capture_output=True, text=True, check=True)
    pages = res.stdout.split("\f")
    if pages and not pages[-1].strip():
        pages.pop()
    return pages


_stack = None


def stack():
    """The shared stack, started on first use."""
    global _stack
    if _stack is None:
        _stack = Stack()
        atexit.register(_stack.teardown)
        _stack.setup()
    return _stack
