"""`einspace`: the one command-line entry point.

Each subcommand lives in its own module of this package and is registered in `_SUBCOMMANDS`.
A user's mistake (`SpecError`, a click usage error) prints one line and exits with code 2;
any other exception is a bug and keeps its traceback.
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
}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """einspace: Transformer workloads as Einsum cascades, mapped onto accelerator models."""


for _module, _attr in _SUBCOMMANDS.items():
    cli.add_command(getattr(importlib.import_module(f"experiments.cli.{_module}"), _attr))


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 ok, 2 user error)."""
    try:
        cli.main(args=argv, prog_name="einspace", standalone_mode=False)
    except SpecError as err:
        click.echo(f"einspace: error: {err}", err=True)
        return 2
    except click.UsageError as err:
        click.echo(f"einspace: error: {err.format_message()}", err=True)
        return 2
    except click.exceptions.Abort:
        click.echo("einspace: aborted", err=True)
        return 130
    except click.exceptions.Exit as exit_:
        return exit_.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
