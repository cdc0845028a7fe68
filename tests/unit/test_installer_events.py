"""Folding ansible-runner events into per-host tallies and the command's exit code."""

from __future__ import annotations

from pathlib import Path

from tigase_py.installer import deploy, health
from tigase_py.installer.events import Tally


def event(kind: str, host: str = "h1", task: str = "t", **res: object) -> dict[str, object]:
    return {"event": kind, "event_data": {"host": host, "task": task, "res": res}}


def test_counts_ok_changed_skipped_and_notes_the_service_mode():
    tally = Tally()
    assert tally.feed(event("runner_on_ok", task="a", changed=False)) == ("h1", "a", "ok")
    assert tally.feed(event("runner_on_ok", task="b", changed=True)) == ("h1", "b", "changed")
    assert tally.feed(event("runner_on_skipped", task="c")) == ("h1", "c", "skipped")
    tally.feed(event("runner_on_ok", task="report", msg="service-mode: direct 127.0.0.1"))
    assert tally.feed({"event": "playbook_on_task_start", "event_data": {"task": "x"}}) is None
    host = tally.hosts["h1"]
    assert (host.ok, host.changed, host.skipped, host.status) == (3, 1, 1, "changed")
    assert host.changed_tasks == ["b"]
    assert (host.service_mode, host.address) == ("direct", "127.0.0.1")


def test_first_failure_is_kept_as_one_line_and_ignored_errors_do_not_count():
    tally = Tally()
    tally.feed({"event": "runner_on_failed", "event_data": {"host": "h1", "ignore_errors": True, "res": {"msg": "x"}}})
    tally.feed(event("runner_on_failed", task="db", msg="DB refused:\n  access denied"))
    tally.feed(event("runner_on_failed", task="report", msg="later"))
    host = tally.hosts["h1"]
    assert host.failed == 2 and host.status == "failed"
    assert host.error == "DB refused: access denied"


def test_failure_without_msg_uses_the_last_stderr_line():
    tally = Tally()
    tally.feed(event("runner_on_failed", stderr="Traceback...\nOSError: [Errno 98] Address in use\n"))
    assert tally.hosts["h1"].error == "OSError: [Errno 98] Address in use"


def test_failed_command_reports_its_own_error_line_not_the_return_code():
    tally = Tally()
    tally.feed(
        event(
            "runner_on_failed",
            rc=3,
            msg="non-zero return code",
            stderr="error: storage: cannot connect to 10.0.0.9:3306 (Connection refused)\n",
        )
    )
    assert tally.hosts["h1"].error == "storage: cannot connect to 10.0.0.9:3306 (Connection refused)"


def report(*hosts: deploy.HostReport, status: str = "successful") -> deploy.Report:
    return deploy.Report("install", list(hosts), Path("log"), status)


def test_exit_codes_unreachable_3_failed_1_ok_0():
    tally = Tally()
    tally.feed(event("runner_on_ok", host="good"))
    tally.feed(event("runner_on_unreachable", host="gone", msg="ssh: connect refused"))
    tally.feed(event("runner_on_failed", host="bad", msg="no sudo"))
    good, gone, bad = (deploy.HostReport(tally.hosts[name]) for name in ("good", "gone", "bad"))
    assert gone.tally.error == "unreachable: ssh: connect refused"
    assert report(good).exit_code == 0
    assert report(good, bad, status="failed").exit_code == 1
    assert report(good, gone, bad, status="failed").exit_code == 3
    assert report(status="failed").exit_code == 1  # nothing ran at all
    good.checks = [health.Check("xmpp", False, "closed")]
    assert report(good).exit_code == 1


def test_refused_key_is_named_without_the_known_hosts_note():
    tally = Tally()
    message = (
        "Task failed: Failed to connect to the host via ssh: Warning: Permanently added '[127.0.0.1]:2222' (ED25519)"
        " to the list of known hosts.\r\ndeploy@127.0.0.1: Permission denied (publickey)."
    )
    tally.feed(event("runner_on_unreachable", host="deploy@127.0.0.1:2222", msg=message, unreachable=True))
    assert tally.hosts["deploy@127.0.0.1:2222"].error == (
        "SSH refused the login: the key was not accepted "
        "(Failed to connect to the host via ssh: deploy@127.0.0.1: Permission denied (publickey).)"
    )


def test_missing_sudo_rights_are_a_privilege_escalation_failure():
    tally = Tally()
    tally.feed(event("runner_on_failed", task="Gathering Facts", msg="Task failed: Missing sudo password"))
    assert tally.hosts["h1"].error == (
        "privilege escalation failed: the SSH user cannot become root with sudo (Missing sudo password)"
    )


def test_other_failures_keep_their_message():
    tally = Tally()
    tally.feed(event("runner_on_failed", msg="Task failed: port 5222 is in use by another process"))
    assert tally.hosts["h1"].error == "port 5222 is in use by another process"


def test_changed_host_key_is_named_without_the_banner():
    tally = Tally()
    banner = "@@@@\r\n@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @\r\n...\r\nHost key verification failed."
    tally.feed(event("runner_on_unreachable", msg=f"Task failed: Failed to connect to the host via ssh: {banner}"))
    assert tally.hosts["h1"].error is not None
    assert tally.hosts["h1"].error.startswith("SSH refused the host: its host key is not the one in known_hosts")
