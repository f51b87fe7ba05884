"""`triage simulate`: a thin click shell over simulate()."""

from __future__ import annotations

from pathlib import Path

import click

from triage.simulate.bundle import simulate
from triage.simulate.knobs import ERAS, FAULTS, KnobError
from triage.simulate.scenarios import SCENARIOS
from triage.simulate.services import SERVICE_NAMES


def _list(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    for scenario in SCENARIOS:
        click.echo(f"{scenario.name:28} {scenario.description}")
    click.echo(f"faults: {', '.join(FAULTS)}")
    ctx.exit()


@click.command("simulate")
@click.argument("scenario")
@click.argument("outdir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--seed", type=int, help="Random seed (default: the scenario's fixture seed).")
@click.option("--processes", type=int, help="Ginkgo parallel processes.")
@click.option("--specs", type=int, help="How many of the suite's 92 specs to include.")
@click.option("--flush-interval", type=float, help="Audit store FlushInterval in seconds.")
@click.option("--ds-latency", type=float, help="DataStorage base write latency in ms.")
@click.option("--fault", "faults", multiple=True, help="Inject a fault (repeatable; see --list).")
@click.option(
    "--era", type=click.Choice(ERAS), help="Log formats: January console, later JSON, or current (HEAD)."
)
@click.option("--service", type=click.Choice(SERVICE_NAMES), help="Whose integration suite runs.")
@click.option("--size-mb", type=float, help="Grow the bundle to about this many MB with passing specs.")
@click.option(
    "--debug-lines",
    type=int,
    help="Extra DEBUG lines the controller prints per reconcile (fewer specs per MB).",
)
@click.option(
    "--clock-skew-ms",
    type=float,
    help="Run the containers' clock this many ms ahead of the test host's (negative: behind).",
)
@click.option(
    "--list",
    "_list_flag",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_list,
    help="List scenarios and faults, then exit.",
)
def simulate_command(
    scenario: str,
    outdir: Path,
    seed: int | None,
    processes: int | None,
    specs: int | None,
    flush_interval: float | None,
    ds_latency: float | None,
    faults: tuple[str, ...],
    era: str | None,
    service: str | None,
    size_mb: float | None,
    debug_lines: int | None,
    clock_skew_ms: float | None,
) -> None:
    """Write a simulated must-gather bundle for SCENARIO into OUTDIR, ground truth beside it."""
    try:
        truth = simulate(
            scenario,
            outdir,
            seed=seed,
            processes=processes,
            specs=specs,
            flush_interval=flush_interval,
            ds_latency_ms=ds_latency,
            faults=faults or None,
            era=era,
            service=service,
            size_mb=size_mb,
            debug_lines=debug_lines,
            clock_skew_ms=clock_skew_ms,
        )
    except KnobError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"wrote {outdir} and {truth}")
