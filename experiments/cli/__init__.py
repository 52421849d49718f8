"""`einspace`: the one command-line entry point.

Each subcommand lives in its own module of this package and is registered in `_SUBCOMMANDS`.
A user's mistake (`SpecError`, a click usage error) prints one line and exits with code 2; an
I/O failure (permissions, a full disk, a missing folder) prints one line and exits with code 1;
any other exception is a bug: one line naming it, exit code 1, and the traceback only with
`einspace --debug …`.
"""
from __future__ import annotations

import importlib
import sys

import click

from workloads.errors import SpecError

# module name -> attribute holding the click command or group
_SUBCOMMANDS = {
    "models": "models",
    "lower": "lower",
    "rtl": "rtl",
    "quant": "quant",
    "dram": "dram",
    "run": "run",
    "sweep": "sweep",
    "results": "results",
    "report": "report",
    "attention": "attention",
    "pim": "pim",
    "bitserial": "bitserial",
    "system": "system",
    "map": "map",
    "validate": "validate",
}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="show the traceback of an internal error")
def cli(debug: bool) -> None:
    """einspace: Transformer workloads as Einsum cascades, mapped onto accelerator models."""


for _module, _attr in _SUBCOMMANDS.items():
    cli.add_command(getattr(importlib.import_module(f"experiments.cli.{_module}"), _attr))


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 ok, 1 I/O failure or internal error, 2 user error)."""
    args = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in args[: next((i for i, a in enumerate(args) if not a.startswith("-")), len(args))]
    try:
        rc = cli.main(args=args, prog_name="einspace", standalone_mode=False)
        if isinstance(rc, int) and rc:
            return rc
    except SpecError as err:
        click.echo(f"einspace: error: {err}", err=True)
        return 2
    except click.UsageError as err:
        click.echo(f"einspace: error: {' '.join(err.format_message().split())}", err=True)
        return 2
    except click.exceptions.Abort:
        click.echo("einspace: aborted", err=True)
        return 130
    except click.exceptions.Exit as exit_:
        return exit_.exit_code
    except OSError as err:
        if debug:
            raise
        where = f": {err.filename}" if getattr(err, "filename", None) else ""
        click.echo(f"einspace: I/O error{where}: {err.strerror or err}", err=True)
        return 1
    except Exception as err:  # noqa: BLE001 - the last line of defence; --debug shows the traceback
        if debug:
            raise
        text = str(err).splitlines()[0] if str(err) else ""
        click.echo(f"einspace: internal error: {type(err).__name__}: {text} (rerun with einspace --debug "
                   "for the traceback)", err=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
