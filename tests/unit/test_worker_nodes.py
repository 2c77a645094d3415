"""What dlict sends a worker node, and what it refuses before anything runs (playbooks/workers.py).

The node gets the playbooks, the inventory, the known_hosts the hosts are checked against and
the public half of the hosts' key — never the private key (it stays in dlict's own ssh-agent,
forwarded for the run). The run on real nodes is in tests/integration/sop/test_audit_workers.py.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from dlict.core.errors import InputError
from dlict.inventory.models import Host, Role
from dlict.playbooks.workers import (
    RemoteRuns,
    WorkerNode,
    _split_known_hosts,
    copy_inventory,
    worker_setup,
)


def _host(name: str, **settings: str) -> Host:
    return Host(name=name, address="10.0.0.1", site="s1", roles=frozenset({Role.LINUX_SERVER}),
                settings=settings)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    known = tmp_path / "known_hosts"
    known.write_text("h1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ2Zr0ohJ5yS1nGK9d8y3X0bbvIbuN+h\n")
    inventory = tmp_path / "inventory.yml"
    inventory.write_text("all:\n  hosts:\n    h1: {}\n")
    return {"key": key, "known": known, "inventory": inventory}


def test_the_known_hosts_option_is_taken_out_of_the_ssh_arguments() -> None:
    rest, known = _split_known_hosts(
        "-o UserKnownHostsFile=/k/known -o StrictHostKeyChecking=no -o ConnectTimeout=5 -C")
    assert known == "/k/known"
    assert rest == "-o ConnectTimeout=5 -C"  # the node's own checking replaces "no"
    assert _split_known_hosts("-oUserKnownHostsFile=/a") == ("", "/a")
    with pytest.raises(InputError, match="one UserKnownHostsFile"):
        _split_known_hosts("-o 'UserKnownHostsFile=/a /b'")


def test_a_node_must_be_an_ssh_destination() -> None:
    assert WorkerNode.parse(" dlict@amphoe-1 ").destination == "dlict@amphoe-1"
    for bad in ("-oProxyCommand=x", "a b", "a;b", ""):
        with pytest.raises(InputError, match="expected \\[user@\\]host"):
            WorkerNode.parse(bad)


def test_hosts_with_different_keys_cannot_share_nodes(files: dict[str, Path]) -> None:
    args = f"-o UserKnownHostsFile={files['known']}"
    hosts = [_host("h1", ansible_ssh_private_key_file=str(files["key"]),
                   ansible_ssh_common_args=args),
             _host("h2", ansible_ssh_private_key_file="/other/key",
                   ansible_ssh_common_args=args)]
    with pytest.raises(InputError, match="one SSH key for every host"):
        worker_setup(["w1"], files["inventory"], hosts)
    with pytest.raises(InputError, match="named twice"):
        worker_setup(["w1", "w1"], files["inventory"], hosts[:1])


def test_a_missing_known_hosts_file_is_refused(files: dict[str, Path], tmp_path: Path) -> None:
    hosts = [_host("h1", ansible_ssh_common_args=f"-o UserKnownHostsFile={tmp_path}/nope")]
    with pytest.raises(InputError, match="known_hosts file is not a regular file"):
        worker_setup(["w1"], files["inventory"], hosts)


def test_the_node_gets_what_the_run_needs_and_never_the_private_key(
        files: dict[str, Path], tmp_path: Path) -> None:
    hosts = [_host("h1", ansible_ssh_private_key_file=str(files["key"]),
                   ansible_ssh_common_args=f"-o UserKnownHostsFile={files['known']} -C")]
    setup = worker_setup(["w1"], files["inventory"], hosts)
    public = files["key"].with_suffix(".pub").read_text()
    remote = RemoteRuns(setup, {"SSH_AUTH_SOCK": "/x"}, public)
    private = tmp_path / "private"
    private.mkdir()
    # the run's playbook lists imports of dlict's playbooks by absolute path (sop.py)
    from dlict.core.paths import data_path

    run_playbook = tmp_path / "run.yml"
    run_playbook.write_text(yaml.safe_dump(
        [{"import_playbook": str(data_path("playbooks") / "firewall.yml")}]))
    kwargs = {"playbook": run_playbook, "limit": "h1", "tags": None,
              "skip_tags": "dlict_apply", "forks": 5,
              "extravars": {"dlict_mode": "audit"}, "cmdline": "--check --diff",
              "envvars": {"ANSIBLE_CALLBACKS_ENABLED": "dlict_tags"}, "mitogen": True}
    sent = remote._pack(kwargs, private, "/tmp/dlict-worker-abc")

    secret = files["key"].read_text()
    for path in private.rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(errors="replace"), path
    playbook = Path(sent["playbook"])
    assert yaml.safe_load(playbook.read_text()) == [{"import_playbook": "firewall.yml"}]
    assert (private / "project" / "roles" / "dlict_firewall").is_dir()
    assert (private / "files" / "known_hosts").read_text() == files["known"].read_text()
    assert (private / "files" / "id.pub").read_text() == public
    assert (private / "files" / "callback" / "dlict_tags.py").is_file()
    assert (private / "files" / "callback" / "dlict_templates.py").is_file()
    assert sent["extravars"] == {
        "dlict_mode": "audit",
        "ansible_ssh_common_args": "-C -o UserKnownHostsFile=/tmp/dlict-worker-abc/files/"
                                   "known_hosts -o StrictHostKeyChecking=yes",
        "ansible_ssh_private_key_file": "/tmp/dlict-worker-abc/files/id.pub",
    }
    assert sent["envvars"]["ANSIBLE_CONFIG"] == "/tmp/dlict-worker-abc/project/ansible.cfg"
    assert sent["envvars"]["ANSIBLE_STRATEGY"] == "mitogen_linear"
    assert sent["cmdline"] == "--check --diff" and sent["limit"] == "h1"
    # an audit on a node leaves out the apply-only tasks as on this machine
    assert sent["skip_tags"] == "dlict_apply"


def test_a_playbook_that_is_not_dlicts_is_not_sent(files: dict[str, Path],
                                                   tmp_path: Path) -> None:
    setup = worker_setup(["w1"], files["inventory"], [
        _host("h1", ansible_ssh_common_args=f"-o UserKnownHostsFile={files['known']}")])
    remote = RemoteRuns(setup, {}, None)
    other = tmp_path / "other.yml"
    other.write_text(yaml.safe_dump([{"import_playbook": "/etc/evil.yml"}]))
    private = tmp_path / "private"
    private.mkdir()
    with pytest.raises(InputError, match="not one of dlict's playbooks"):
        remote._pack({"playbook": other, "envvars": {}, "extravars": {}, "mitogen": False,
                      "limit": None, "tags": None, "skip_tags": None, "forks": 1,
                      "cmdline": None},
                     private, "/tmp/dlict-worker-x")


def test_the_inventory_goes_with_the_files_ansible_reads_beside_it(tmp_path: Path) -> None:
    # a directory: its whole tree (hidden files are not Ansible's)
    district = tmp_path / "district"
    (district / "group_vars").mkdir(parents=True)
    (district / "hosts.yml").write_text("all:\n  hosts:\n    h1: {}\n")
    (district / "group_vars" / "all.yml").write_text("dlict_mgmt_networks: [10.0.0.0/24]\n")
    (district / ".git").mkdir()
    (district / ".git" / "config").write_text("x")
    copied = copy_inventory(district, tmp_path / "sent-dir")
    assert sorted(str(p.relative_to(copied)) for p in copied.rglob("*") if p.is_file()) == [
        "group_vars/all.yml", "hosts.yml"]
    # a file: with the group_vars beside it, which Ansible also reads
    sent = copy_inventory(district / "hosts.yml", tmp_path / "sent-file")
    assert sent == tmp_path / "sent-file" / "hosts.yml" and sent.is_file()
    assert (tmp_path / "sent-file" / "group_vars" / "all.yml").read_text().startswith("dlict_")


def test_an_inventory_with_a_fifo_is_refused(files: dict[str, Path], tmp_path: Path) -> None:
    import os

    district = tmp_path / "district"
    district.mkdir()
    (district / "hosts.yml").write_text("all: {}\n")
    os.mkfifo(district / "more.yml")
    hosts = [_host("h1", ansible_ssh_common_args=f"-o UserKnownHostsFile={files['known']}")]
    with pytest.raises(InputError, match="not a regular file"):
        worker_setup(["w1"], district, hosts)
