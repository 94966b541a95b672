#!/usr/bin/env python3
"""Compares the indicator values of two expositions: sales_exporter's (metric names per
scope, e.g. sales_team_revenue{team="North",period="month",window="current"}) and
query-exporter's from postgres.yaml or sqlite.yaml (e.g. sales_revenue{scope="team",...}).

    compare_values.py OURS THEIRS [--tolerance 1e-9] [--show 20]

OURS and THEIRS are files or http:// URLs. Prints the series both serve and how many
agree (relative tolerance, default 1e-9, plus 1e-6 absolute for float sums), every
difference up to --show, the series only one side serves, and a few spot checks. Exits 1
when a series both serve differs. Python 3 standard library only.
"""

import argparse
import re
import sys
import urllib.request

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
OURS = re.compile(r"^sales_(company|team|rep)_(.+)$")


def read(source: str) -> str:
    if source.startswith("http://") or source.startswith("https://"):
        with urllib.request.urlopen(source, timeout=60) as response:
            return response.read().decode()
    with open(source) as f:
        return f.read()


def samples(text: str):
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        if match:
            name, labels, value = match.groups()
            yield name, dict(LABEL.findall(labels or "")), float(value)


def key(metric, labels):
    return (metric, labels.get("scope", ""), labels.get("rep", ""), labels.get("team", ""),
            labels.get("period", ""), labels.get("window", ""))


def ours_series(text: str) -> dict:
    series = {}
    for name, labels, value in samples(text):
        match = OURS.match(name)
        if not match or name.startswith("sales_exporter_") or name.endswith("_target"):
            continue
        scope, suffix = match.groups()
        if suffix == "info":
            continue
        metric = "sales_cycle_seconds" if suffix == "sales_cycle_seconds" else f"sales_{suffix}"
        series[key(metric, dict(labels, scope=scope))] = value
    return series


def theirs_series(text: str) -> dict:
    return {key(name, labels): value for name, labels, value in samples(text)
            if name.startswith("sales_") and "scope" in labels}


def show(k) -> str:
    metric, scope, rep, team, period, window = k
    labels = ", ".join(f"{n}={v}" for n, v in (("scope", scope), ("rep", rep), ("team", team),
                                               ("period", period), ("window", window)) if v)
    return f"{metric}{{{labels}}}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ours")
    parser.add_argument("theirs")
    parser.add_argument("--tolerance", type=float, default=1e-9)
    parser.add_argument("--show", type=int, default=20)
    args = parser.parse_args()
    ours = ours_series(read(args.ours))
    theirs = theirs_series(read(args.theirs))

    both = sorted(set(ours) & set(theirs))
    differ = [k for k in both
              if abs(ours[k] - theirs[k]) > args.tolerance * max(abs(ours[k]), abs(theirs[k])) + 1e-6]
    only_ours = sorted(set(ours) - set(theirs))
    only_theirs = sorted(set(theirs) - set(ours))
    zero_only_theirs = [k for k in only_theirs if theirs[k] == 0]

    print(f"indicator series: ours {len(ours)}, theirs {len(theirs)}, both {len(both)}")
    print(f"equal: {len(both) - len(differ)}, different: {len(differ)}")
    for k in differ[: args.show]:
        print(f"  differs: {show(k)} ours {ours[k]!r} theirs {theirs[k]!r}")
    print(f"only ours: {len(only_ours)}")
    for k in only_ours[: args.show]:
        print(f"  only ours: {show(k)} {ours[k]!r}")
    print(f"only theirs: {len(only_theirs)}, of which value 0: {len(zero_only_theirs)} "
          "(ratios with a zero denominator, which query-exporter exports as 0)")
    for k in [k for k in only_theirs if theirs[k] != 0][: args.show]:
        print(f"  only theirs: {show(k)} {theirs[k]!r}")

    spot = [
        ("sales_revenue", "company", "", "", "month", "current"),
        ("sales_new_customers", "company", "", "", "30d", "current"),
        ("sales_conversion_ratio", "company", "", "", "30d", "current"),
        ("sales_acquisition_cost", "company", "", "", "quarter", "current"),
        ("sales_open_pipeline_weighted_amount", "company", "", "", "", ""),
    ]
    reps = sorted({k[2] for k in both if k[1] == "rep"})
    if reps:
        rep = reps[0]
        team = next(k[3] for k in both if k[2] == rep)
        spot += [
            ("sales_opportunities_won", "rep", rep, team, "quarter", "previous"),
            ("sales_calls", "rep", rep, team, "week", "current"),
            ("sales_cycle_seconds", "team", "", team, "year", "current"),
        ]
    print("spot checks:")
    for k in spot:
        print(f"  {show(k)}: ours {ours.get(k, 'absent')!r} theirs {theirs.get(k, 'absent')!r}")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
