"""A cache on a network filesystem is refused (detection on synthetic mountinfo text)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from inbox_app.client import cache as cache_module
from inbox_app.client import localfs
from inbox_app.client.cache import Cache, CacheOnNetworkFilesystem
from inbox_app.client.engine import ClientEngine, EngineConfig
from inbox_app.client.localfs import fs_type_from_mountinfo, is_network_fs, parse_mountinfo

MOUNTINFO = r"""22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro
25 22 0:22 / /dev/shm rw,nosuid,nodev shared:3 - tmpfs tmpfs rw
40 22 0:35 / /home rw,relatime shared:20 - ext4 /dev/sda2 rw
41 40 0:36 / /home/praxis/nfs rw,relatime shared:21 - nfs4 srv:/export rw,vers=4.2
42 40 0:37 / /home/praxis/Praxis\040Share rw,relatime shared:22 - cifs //srv/praxis rw
43 40 0:38 / /home/praxis/remote rw,nosuid,nodev,relatime shared:23 - fuse.sshfs me@srv: rw
44 22 0:39 / /mnt/wsl rw,relatime shared:24 - 9p drvfs rw
45 22 0:40 / /mnt/smb rw,relatime - smb3 //nas/x rw
46 40 0:41 / /home/praxis/nfs/local rw,relatime shared:25 - ext4 /dev/sdb1 rw
47 22 0:42 / /media/usb rw,relatime shared:26 - vfat /dev/sdc1 rw
48 22 0:43 / /run/user/1000/doc rw,relatime - fuse.portal portal rw
"""


def test_parse_mountinfo_unescapes_mount_points() -> None:
    mounts = dict(parse_mountinfo(MOUNTINFO))
    assert mounts["/home/praxis/Praxis Share"] == "cifs"
    assert mounts["/"] == "ext4"
    assert parse_mountinfo("garbage without separator\n") == []


@pytest.mark.parametrize(
    ("path", "fs_type", "network"),
    [
        ("/home/praxis/.local/share/praxis-inbox/anna", "ext4", False),
        ("/home/praxis/nfs/inbox/anna", "nfs4", True),
        ("/home/praxis/nfsother/anna", "ext4", False),  # a prefix of a name is not a parent
        ("/home/praxis/Praxis Share/inbox", "cifs", True),
        ("/home/praxis/remote/inbox", "fuse.sshfs", True),
        ("/mnt/wsl/c/Users/anna", "9p", True),
        ("/mnt/smb", "smb3", True),
        ("/home/praxis/nfs/local/inbox", "ext4", False),  # a local disk mounted inside NFS
        ("/media/usb/inbox", "vfat", False),
        ("/run/user/1000/doc/x", "fuse.portal", False),
        ("/tmp/x", "ext4", False),
    ],
)
def test_network_filesystems_are_recognised(path: str, fs_type: str, network: bool) -> None:
    found = fs_type_from_mountinfo(path, MOUNTINFO)
    assert found == fs_type
    assert is_network_fs(found) is network


def test_later_mount_on_the_same_point_wins() -> None:
    text = MOUNTINFO + "50 22 0:50 / /media/usb rw - nfs srv:/x rw\n"
    assert fs_type_from_mountinfo("/media/usb/inbox", text) == "nfs"


def test_opening_a_cache_on_a_network_filesystem_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pretend the test's folder is an NFS mount; the real detection code runs on that text.
    fake = MOUNTINFO + f"60 22 0:60 / {tmp_path} rw,relatime - nfs4 srv:/praxis rw\n"
    real_read = Path.read_text

    def read_text(self: Path, *args: object, **kwargs: object) -> str:
        if str(self) == "/proc/self/mountinfo":
            return fake
        return real_read(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(localfs.sys, "platform", "linux")
    monkeypatch.setattr(Path, "read_text", read_text)
    path = tmp_path / "anna" / "cache.db"
    with pytest.raises(CacheOnNetworkFilesystem) as refused:
        asyncio.run(Cache.open(path, "ab" * 32))
    assert str(tmp_path / "anna") in str(refused.value) and "nfs4" in str(refused.value)
    assert not path.exists()  # refused before anything was written
    assert refused.value.fs_type == "nfs4"
    assert issubclass(CacheOnNetworkFilesystem, cache_module.CacheError)


def test_sign_in_with_a_data_folder_on_a_network_drive_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(localfs, "filesystem_type", lambda path: "cifs")
    monkeypatch.setattr(cache_module, "filesystem_type", lambda path: "cifs")
    engine = ClientEngine(
        EngineConfig(relay_url="http://127.0.0.1:9", data_dir=tmp_path / "data"),
        keyring_backends=[],
    )
    with pytest.raises(CacheOnNetworkFilesystem, match="network drive"):
        asyncio.run(engine.sign_in("anna", "pw"))
    assert not (tmp_path / "data").exists()


def test_this_machines_test_folder_is_local(tmp_path: Path) -> None:
    # Real detection on this machine: the tests' tmp folder must not look like a network fs.
    assert not is_network_fs(localfs.filesystem_type(tmp_path / "not" / "yet"))
