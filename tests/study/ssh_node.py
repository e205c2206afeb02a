"""This machine as an on-prem node that `ray up` (Ray's `local` provider) reaches over SSH, for
tests of the user's path: a dedicated unprivileged user ``studyci`` (the shipped YAMLs run
`ray stop` on their nodes; as that user it can signal only that user's processes, never another
Ray on a shared machine), a key pair, an sshd of its own on loopback, and a venv at
``~studyci/study-venv`` that reuses this venv's packages, so setup_node.sh installs no torch.

Root only. ``stop`` ends, by PID, the sshd and its sessions and every process of ``studyci``, then
deletes the user and its home."""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

USER = "studyci"
SSHD = "/usr/sbin/sshd"
RELAY = Path(__file__).with_name("ssh_relay.py")
TOOLS = {  # what the node and the launcher need: the Debian package that has it
    SSHD: "openssh-server",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
    "rsync": "rsync",
    "tmux": "tmux",
    "useradd": "passwd",
    "userdel": "passwd",
    "runuser": "util-linux",
}
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
# of the reused packages, which the cluster YAMLs and scripts call
CONSOLE_SCRIPTS = ("ray", "mlflow")


def node_python() -> str | None:
    """A system Python with this interpreter's minor version (the node's venv reads this venv's
    site-packages, compiled for it), found where a login shell of the node user finds it."""
    return shutil.which(
        f"python{sys.version_info.major}.{sys.version_info.minor}", path=SYSTEM_PATH
    )


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _status(pid: int, field: str) -> str | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return line.split()[1]
    except OSError:
        return None
    return None


def cmdline(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline")
            .read_bytes()
            .replace(b"\0", b" ")
            .decode(errors="replace")
            .strip()
        )
    except OSError:
        return ""


def processes_of(uid: int) -> list[int]:
    return [pid for pid in _pids() if _status(pid, "Uid") == str(uid)]


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid in _pids():
        parent = _status(pid, "PPid")
        if parent is not None:
            children.setdefault(int(parent), []).append(pid)
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def ray_ssh_control_dir(cluster_name: str) -> str:
    """Where Ray's SSH command runner keeps its ControlMaster sockets for this cluster."""
    import getpass

    user, cluster = (
        hashlib.sha256(s.encode()).hexdigest()[:10] for s in (getpass.getuser(), cluster_name)
    )
    return f"/tmp/ray_ssh_{user}/{cluster}"


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SshNode:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.key = workdir / "id_ed25519"
        self.port = 22 if _port_free(22) else _free_port()
        self.sshd: subprocess.Popen | None = None
        self.made_run_dir = False
        self.uid: int | None = None
        self.home = Path("/nonexistent")

    @staticmethod
    def unavailable() -> str | None:
        """Why this machine cannot play the node, or None."""
        if os.geteuid() != 0:
            return (
                f"needs root: it creates the unprivileged user {USER} and starts an sshd of its own"
            )
        for tool, package in TOOLS.items():
            if not shutil.which(tool):
                return f"{tool} is not installed (apt-get install {package})"
        site = Path(sysconfig.get_path("purelib"))
        if (
            any(not (d.stat().st_mode & 0o001) for d in (site, *site.parents))
            or not site.stat().st_mode & 0o004
        ):
            return f"{site} is not readable by other users (the node's venv reuses it)"
        if not node_python():
            return (
                f"no python{sys.version_info.major}.{sys.version_info.minor} on {SYSTEM_PATH} for the node's venv "
                "(it reuses this venv's packages, so the minor version must match)"
            )
        if (
            subprocess.run(
                [node_python(), "-c", "import ensurepip"], capture_output=True
            ).returncode
            != 0
        ):
            return f"{node_python()} cannot make a venv (apt-get install python3-venv)"
        try:
            uid = pwd.getpwnam(USER).pw_uid
        except KeyError:
            return None
        if processes_of(uid):
            return f"the user {USER} exists and runs processes (another run of this test?)"
        return None

    # --- the node ---

    def start(self) -> SshNode:
        try:
            pwd.getpwnam(USER)
            # left by a killed run
            subprocess.run(["userdel", "-r", USER], capture_output=True, check=False)
        except KeyError:
            pass
        # '*': no password, yet not locked (sshd without PAM refuses a locked account's key)
        subprocess.run(
            ["useradd", "--create-home", "--shell", "/bin/bash", "--password", "*", USER],
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(USER)
        self.uid, self.home = entry.pw_uid, Path(entry.pw_dir)
        for name in ("id_ed25519", "host_ed25519"):
            subprocess.run(
                [
                    "ssh-keygen",
                    "-q",
                    "-t",
                    "ed25519",
                    "-N",
                    "",
                    "-C",
                    f"{USER}-test",
                    "-f",
                    str(self.workdir / name),
                ],
                check=True,
            )
        ssh_dir = self.home / ".ssh"
        ssh_dir.mkdir(mode=0o700)
        (ssh_dir / "authorized_keys").write_text((self.workdir / "id_ed25519.pub").read_text())
        (ssh_dir / "authorized_keys").chmod(0o600)
        for path in (ssh_dir, ssh_dir / "authorized_keys"):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        config = self.workdir / "sshd_config"
        config.write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {self.workdir / 'host_ed25519'}\n"
            f"PidFile {self.workdir / 'sshd.pid'}\nAllowUsers {USER}\nPermitRootLogin no\nUsePAM no\n"
            "PubkeyAuthentication yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "AuthorizedKeysFile .ssh/authorized_keys\nSubsystem sftp internal-sftp\nLogLevel VERBOSE\n"
        )
        if not os.path.isdir("/run/sshd"):  # sshd's privilege-separation directory
            os.makedirs("/run/sshd", mode=0o755)
            self.made_run_dir = True
        self.sshd = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(config)],
            stdout=(self.workdir / "sshd.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while True:
            done = subprocess.run(
                ["ssh", *self.ssh_options(), f"{USER}@127.0.0.1", "true"],
                capture_output=True,
                text=True,
                timeout=60,
            )
            if done.returncode == 0:
                return self
            if self.sshd.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"sshd on 127.0.0.1:{self.port} does not let {USER} in: {done.stderr.strip()[-500:]}; "
                    f"sshd says: {(self.workdir / 'sshd.log').read_text()[-1500:]}"
                )
            time.sleep(0.5)

    def ssh_options(self) -> list[str]:
        return [
            "-i",
            str(self.key),
            "-p",
            str(self.port),
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "LogLevel=ERROR",
        ]

    def proxy_command(self) -> str | None:
        """``auth.ssh_proxy_command`` for Ray when sshd cannot listen on 22 (taken here)."""
        return None if self.port == 22 else f"{sys.executable} {RELAY} %h {self.port}"

    def run_as(self, *command: str, timeout: float = 300) -> subprocess.CompletedProcess:
        env = {
            "HOME": str(self.home),
            "USER": USER,
            "LOGNAME": USER,
            "PATH": SYSTEM_PATH,
            "LANG": "C.UTF-8",
        }
        return subprocess.run(
            [shutil.which("runuser"), "-u", USER, "--", *command],
            cwd=self.home,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def prepend_to_bashrc(self, line: str) -> None:
        bashrc = self.home / ".bashrc"
        text = bashrc.read_text() if bashrc.exists() else ""
        bashrc.write_text(line + "\n" + text)
        os.chown(bashrc, self.uid, pwd.getpwnam(USER).pw_gid)

    def venv_reusing_this_one(self) -> Path:
        """``~/study-venv`` made with the node's Python, reading this venv's site-packages (after
        its own) through a .pth file: setup_node.sh's pip then finds torch and the rest installed."""
        target = self.home / "study-venv"
        done = self.run_as(node_python(), "-m", "venv", str(target), timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"the node's venv: {done.stderr[-1500:]}")
        site = sysconfig.get_path("purelib")
        found = list(target.glob("lib/python*/site-packages"))
        assert len(found) == 1, found
        (found[0] / "test-runner-packages.pth").write_text(site + "\n")
        for name in CONSOLE_SCRIPTS:  # what pip writes into bin/ when it installs these packages
            entry = next(iter(importlib.metadata.entry_points(group="console_scripts", name=name)))
            module, function = entry.value.split(":")
            script = target / "bin" / name
            script.write_text(
                f"#!{target}/bin/python\nimport sys\nfrom {module} import {function}\n"
                f"sys.exit({function}())\n"
            )
            script.chmod(0o755)
        return target

    def stop(self) -> None:
        """The sshd's sessions, every process of the user, the sshd; then the user and its home."""
        if self.sshd is not None:
            kill(descendants(self.sshd.pid))
        if self.uid is not None:
            for _ in range(5):  # a dying process's parent may start another; a few rounds end them
                left = processes_of(self.uid)
                if not left:
                    break
                kill(left)
                time.sleep(0.5)
        if self.sshd is not None:
            try:
                os.killpg(self.sshd.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.sshd.wait(timeout=30)
        if self.uid is not None:
            subprocess.run(["userdel", "-r", USER], capture_output=True, check=False)
            shutil.rmtree(f"/tmp/tmux-{self.uid}", ignore_errors=True)
        if self.made_run_dir:
            shutil.rmtree("/run/sshd", ignore_errors=True)
