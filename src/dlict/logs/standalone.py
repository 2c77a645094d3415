"""The log server's own command (``python3 dlict-logs.pyz keygen|seal|check``).

The same library as ``dlict logs``, without Typer, Rich or the inventory: the server has only
Python and python3-cryptography. Exit codes as dlict's: 0 ok, 1 findings, 2 bad input,
3 operational error. ``--lang th`` prints the lines in Thai (default English, as scripts on
the server expect).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from dlict.core.errors import DlictError, ExitCode, InputError
from dlict.core.files import write_private
from dlict.core.printable import printable
from dlict.i18n import LANGS, text
from dlict.logs import keys
from dlict.logs.check import DEFAULT_LOCK_WAIT, check_tree, load_public_for
from dlict.logs.metrics import exposition
from dlict.logs.policy import resolve_policy
from dlict.logs.seal import seal_tree
from dlict.logs.summary import check_lines, seal_lines


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dlict-logs", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    keygen = commands.add_parser("keygen", help="create the Ed25519 sealing key")
    keygen.add_argument("--key", type=Path, required=True, help="private key file to create")
    for name, purpose in (("seal", "compress, seal and prune closed days"),
                          ("check", "verify coverage, integrity, freshness, clocks, fields")):
        command = commands.add_parser(name, help=purpose)
        command.add_argument("--policy", type=Path, help="policy file (/etc/dlict/logging.json)")
        command.add_argument("--root", type=Path, help="log tree")
        command.add_argument("--state", type=Path, help="seal state directory")
        command.add_argument("--key", type=Path, help="private key (seal) / public key (check)")
    commands.choices["seal"].add_argument(
        "--retention-days", type=int, help="delete sealed days older than this (without it, "
        "or retention_days in the policy file, nothing is deleted)")
    check = commands.choices["check"]
    check.add_argument("--wait", type=float, default=DEFAULT_LOCK_WAIT,
                       help="seconds to wait for a running seal to finish")
    check.add_argument("--days", type=int, help="window in days (default: the retention)")
    check.add_argument("--json", action="store_true", help="JSON on standard output")
    check.add_argument("--metrics", type=Path, help="write Prometheus text format here")
    for command in commands.choices.values():
        command.add_argument("--lang", choices=LANGS, default="en",
                             help="language of the lines: en (default) or th")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        code = _run(args)
    except DlictError as exc:
        for line in exc.lines():
            sys.stderr.write(f"dlict-logs: {printable(line)}\n")
        code = int(exc.exit_code)
    sys.exit(code)


def _run(args: argparse.Namespace) -> int:
    if args.command == "keygen":
        created = text("logs.line.keygen", args.lang, path=args.key,
                       key_id=keys.generate(args.key))
        sys.stdout.write(f"{created}\n")
        return ExitCode.OK
    if args.command == "seal":
        policy = resolve_policy(args.policy, root=args.root, signing_key=args.key,
                                state_dir=args.state, retention_days=args.retention_days)
        outcomes = seal_tree(policy)
        for line in seal_lines(outcomes, args.lang):
            sys.stdout.write(printable(line) + "\n")
        return ExitCode.FINDINGS if any(o.refused or o.stopped or o.findings for o in outcomes) \
            else ExitCode.OK
    if not 0 <= args.wait <= 86_400:
        raise InputError(f"--wait must be between 0 and 86400 seconds, got {args.wait}")
    policy = resolve_policy(args.policy, root=args.root, state_dir=args.state)
    report = check_tree(policy, load_public_for(policy, args.key), days=args.days,
                        lock_wait=args.wait)
    if args.metrics:
        write_private(args.metrics, exposition(report))
    if args.json:
        sys.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=1) + "\n")
    else:
        for line in check_lines(report, args.lang):
            sys.stdout.write(printable(line) + "\n")
    return ExitCode.OK if report.ok else ExitCode.FINDINGS


if __name__ == "__main__":
    main()
