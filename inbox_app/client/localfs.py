"""Refuse a cache on a network filesystem (NFS, SMB, sshfs, …).

SQLite's locking and WAL's shared memory are unreliable over network filesystems (the
SQLite docs warn against it), and a cache there would leave the PC with patient data. On
Linux the filesystem type comes from ``/proc/self/mountinfo``; on Windows a remote drive or
UNC path is detected; on macOS ``statfs`` via ``mount`` output. Elsewhere: best effort.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

NETWORK_FS_TYPES = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb",
        "smb2",
        "smb3",
        "smbfs",
        "ncpfs",
        "afs",
        "9p",
        "ceph",
        "glusterfs",
        "lustre",
        "gfs2",
        "ocfs2",
        "davfs",
        "webdav",
        "afpfs",
        "fuse.sshfs",
        "fuse.rclone",
        "fuse.glusterfs",
        "fuse.cephfs",
        "fuse.s3fs",
        "fuse.davfs",
        "fuse.smbnetfs",
    }
)


def _unescape(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as octal \040, \011, \012, \134.
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 4 <= len(field) and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text: str) -> list[tuple[str, str]]:
    """(mount point, filesystem type) for each line of a ``/proc/self/mountinfo`` text."""
    mounts: list[tuple[str, str]] = []
    for line in text.splitlines():
        fields = line.split()
        if "-" not in fields:
            continue
        sep = fields.index("-")
        if sep < 5 or sep + 1 >= len(fields):
            continue
        mounts.append((_unescape(fields[4]), fields[sep + 1]))
    return mounts


def fs_type_from_mountinfo(path: str, mountinfo: str) -> str | None:
    """The filesystem type of the mount holding absolute ``path`` (the longest match; for
    the same mount point the last line wins, as later mounts hide earlier ones)."""
    best: tuple[int, str] | None = None
    for mount_point, fs_type in parse_mountinfo(mountinfo):
        prefix = mount_point.rstrip("/") + "/"
        if path == mount_point or path.startswith(prefix) or mount_point == "/":
            if best is None or len(mount_point) >= best[0]:
                best = (len(mount_point), fs_type)
    return None if best is None else best[1]


def is_network_fs(fs_type: str | None) -> bool:
    if not fs_type:
        return False
    lowered = fs_type.lower()
    return lowered in NETWORK_FS_TYPES or lowered.split(".", 1)[0] in ("nfs", "cifs", "smb3")


def _existing(path: Path) -> Path:
    """The path resolved, or its nearest existing ancestor (the cache may not exist yet)."""
    path = path.absolute()
    for candidate in (path, *path.parents):
        with contextlib.suppress(OSError):
            if candidate.exists():
                return candidate.resolve()
    return Path(path.anchor or "/")


def filesystem_type(path: Path) -> str | None:
    """The filesystem type holding ``path``, or None where it cannot be told."""
    target = _existing(path)
    if sys.platform.startswith("linux"):
        try:
            text = Path("/proc/self/mountinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        return fs_type_from_mountinfo(str(target), text)
    if sys.platform == "win32":
        return _windows_fs_type(target)
    if sys.platform == "darwin":
        return _mac_fs_type(target)
    return None


def _windows_fs_type(target: Path) -> str | None:
    if str(target).startswith("\\\\"):
        return "smb"  # a UNC path is a network share
    import ctypes

    drive = os.path.splitdrive(str(target))[0] + "\\"
    windll = getattr(ctypes, "windll", None)
    if windll is None:
        return None
    drive_remote = 4
    return "smb" if windll.kernel32.GetDriveTypeW(drive) == drive_remote else "local"


def _mac_fs_type(target: Path) -> str | None:
    try:
        out = subprocess.run(
            ["/sbin/mount"], capture_output=True, text=True, timeout=5, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    best: tuple[int, str] | None = None
    for line in out.splitlines():
        # "//user@server/share on /Volumes/share (smbfs, nodev, nosuid, mounted by …)"
        if " on " not in line or " (" not in line:
            continue
        mount_point = line.split(" on ", 1)[1].rsplit(" (", 1)[0]
        fs_type = line.rsplit(" (", 1)[1].split(",", 1)[0].rstrip(")")
        prefix = mount_point.rstrip("/") + "/"
        if str(target) == mount_point or str(target).startswith(prefix) or mount_point == "/":
            if best is None or len(mount_point) >= best[0]:
                best = (len(mount_point), fs_type)
    return None if best is None else best[1]
