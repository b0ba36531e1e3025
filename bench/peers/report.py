#!/usr/bin/env python3
# Copyright (c) Cairn authors.
"""Merges the JSON of a bench/peers/run into OUTDIR/report.md and charts.

    report.py OUTDIR

Reads OUTDIR/cairn-<workload>.json (`cairn bench --json`) and
OUTDIR/<peer>-<workload>.json (cairn_peer_bench --json), plus machine.txt
and commands.txt, and writes report.md, throughput.png and latency.png.
Standard library only, except matplotlib for the charts (skipped, with a
note, when it is missing).
"""

import json
import os
import sys

WORKLOADS = ["single", "concurrent", "batch", "read-all"]
PEERS = ["postgresql", "messagedb", "sqlite", "jetstream"]
LABELS = {
    "cairn": "Cairn",
    "postgresql": "PostgreSQL",
    "messagedb": "Message DB",
    "sqlite": "SQLite",
    "jetstream": "JetStream*",
    "raw": "raw limit",
}
# The goals of issue 5, on `concurrent`: Cairn / peer at least this.
GOALS = {"postgresql": 20, "sqlite": 10, "jetstream": 5}


def load(outdir, name):
    path = os.path.join(outdir, name + ".json")
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return None
    with open(path) as f:
        return json.load(f)


def raw_limit(workload, cairn):
    """The raw disk ceiling for `workload` in events/s, and how it is made."""
    if cairn is None:
        return None, ""
    raw = cairn.get("raw", {})
    if workload == "single":
        return (cairn.get("raw_fsync_per_sec"),
                "4 KiB write+fdatasync per second (one event per fsync)")
    if workload == "concurrent":
        per_event = cairn.get("bytes_per_event") or 0
        mb = cairn.get("raw_write_mb_per_sec") or 0
        fsyncs = cairn.get("raw_fsync_per_sec") or 0
        if per_event <= 0:
            return None, ""
        bandwidth = mb * 1e6 / per_event
        groups = fsyncs * 256
        return (min(bandwidth, groups),
                "min(1 MiB write+fdatasync bandwidth / Cairn's stored bytes "
                "per event, fdatasyncs/s x 256 in flight)")
    if workload == "batch":
        per_event = cairn.get("bytes_per_event") or 0
        mb = cairn.get("raw_write_mb_per_sec") or 0
        if per_event <= 0:
            return None, ""
        note = ("1 MiB write+fdatasync bandwidth / Cairn's stored bytes per "
                "event (the device ceiling of the docs' batch goal)")
        if raw.get("append_writes_per_sec"):
            note += ("; one append's bytes (%d B) write+fdatasync measured "
                     "%.0f/s = %s events/s"
                     % (raw.get("append_write_bytes", 0),
                        raw["append_writes_per_sec"],
                        fmt_rate(raw["append_writes_per_sec"] * 100)))
        return mb * 1e6 / per_event, note
    return None, "none (in memory after the warm-up pass)"


def fmt_rate(x):
    if x is None:
        return "-"
    if x >= 1e6:
        return "%.2f M" % (x / 1e6)
    if x >= 1e4:
        return "%.0f k" % (x / 1e3)
    if x >= 1e3:
        return "%.1f k" % (x / 1e3)
    return "%.0f" % x


def fmt_us(x):
    if x is None:
        return "-"
    if x >= 1e6:
        return "%.2f s" % (x / 1e6)
    if x >= 1e4:
        return "%.1f ms" % (x / 1e3)
    if x >= 1e3:
        return "%.2f ms" % (x / 1e3)
    return "%.0f us" % x


def fmt_ratio(x):
    if x is None:
        return "-"
    if x >= 100:
        return "%.0fx" % x
    if x >= 10:
        return "%.1fx" % x
    return "%.2fx" % x


def read_kv(path):
    out = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if ":" in line:
                    key, value = line.split(":", 1)
                    out[key.strip()] = value.strip()
    return out


def main():
    outdir = sys.argv[1]
    machine = read_kv(os.path.join(outdir, "machine.txt"))
    results = {}  # (system, workload) -> json
    for w in WORKLOADS:
        results[("cairn", w)] = load(outdir, "cairn-" + w)
        for p in PEERS:
            results[(p, w)] = load(outdir, "%s-%s" % (p, w))
    peers = [p for p in PEERS if any(results[(p, w)] for w in WORKLOADS)]
    systems = ["cairn"] + peers

    def eps(system, w):
        r = results.get((system, w))
        return r.get("events_per_sec") if r else None

    def lat(system, w, q):
        r = results.get((system, w))
        return r.get("latency_us", {}).get(q) if r else None

    raws = {w: raw_limit(w, results[("cairn", w)]) for w in WORKLOADS}

    md = []
    md.append("# Cairn and its peers, %s" % machine.get("date_utc", "?"))
    md.append("")
    md.append("Machine: %s CPUs (%s), %s RAM, %s, %s. Cairn %s. "
              "Load average (1, 5, 15 min) %s at the start, %s at the end."
              % (machine.get("nproc", "?"), machine.get("cpu", "?"),
                 machine.get("memory", "?"), machine.get("kernel", "?"),
                 machine.get("fs", "?"), machine.get("cairn_revision", "?"),
                 machine.get("load_average_start", "?"),
                 machine.get("load_average_end", "?")))
    md.append("")
    md.append("Each workload ran %s s per system, 200-byte events over "
              "10 000 streams, durable appends acknowledged after fsync "
              "(*JetStream excepted: %s can not fsync per write; "
              "its acks precede the fsync, so its figures are not at equal "
              "durability)." % (machine.get("duration_s", "?"),
                                machine.get("nats_server", "?")))
    md.append("")

    md.append("## Throughput (events/s)")
    md.append("")
    md.append("| workload | " + " | ".join(LABELS[s] for s in systems) +
              " | raw limit |")
    md.append("|---" * (len(systems) + 2) + "|")
    for w in WORKLOADS:
        row = [w] + [fmt_rate(eps(s, w)) for s in systems]
        row.append(fmt_rate(raws[w][0]))
        md.append("| " + " | ".join(row) + " |")
    md.append("")

    md.append("## Ratios")
    md.append("")
    md.append("| workload | " +
              " | ".join("Cairn / " + LABELS[p] for p in peers) +
              " | Cairn / raw limit |")
    md.append("|---" * (len(peers) + 2) + "|")
    for w in WORKLOADS:
        c = eps("cairn", w)
        row = [w]
        for p in peers:
            e = eps(p, w)
            row.append(fmt_ratio(c / e) if c and e else "-")
        r = raws[w][0]
        row.append(fmt_ratio(c / r) if c and r else "-")
        md.append("| " + " | ".join(row) + " |")
    md.append("")

    md.append("## Goals on `concurrent`")
    md.append("")
    md.append("| goal | measured | verdict |")
    md.append("|---|---|---|")
    c = eps("cairn", "concurrent")
    for p, goal in GOALS.items():
        e = eps(p, "concurrent")
        if not c or not e:
            md.append("| Cairn >= %dx %s | - | not measured |"
                      % (goal, LABELS[p]))
            continue
        ratio = c / e
        verdict = "met" if ratio >= goal else "NOT met"
        if p == "jetstream":
            verdict += " (unequal durability: JetStream does not fsync)"
        md.append("| Cairn >= %dx %s | %s | %s |"
                  % (goal, LABELS[p], fmt_ratio(ratio), verdict))
    md.append("")

    md.append("## Latency per append (per pass for read-all): "
              "p50 / p99 / p99.9")
    md.append("")
    md.append("| workload | " + " | ".join(LABELS[s] for s in systems) + " |")
    md.append("|---" * (len(systems) + 1) + "|")
    for w in WORKLOADS:
        row = [w]
        for s in systems:
            if results.get((s, w)) is None:
                row.append("-")
            else:
                row.append(" / ".join(fmt_us(lat(s, w, q))
                                      for q in ("p50", "p99", "p999")))
        md.append("| " + " | ".join(row) + " |")
    md.append("")

    md.append("## Raw limits (measured by `cairn bench` in the same "
              "directory)")
    md.append("")
    for w in WORKLOADS:
        value, how = raws[w]
        md.append("- %s: %s events/s; %s" % (w, fmt_rate(value), how))
    md.append("")

    md.append("## Settings")
    md.append("")
    for s in systems:
        for w in WORKLOADS:
            r = results.get((s, w))
            if r is None:
                continue
            if s == "cairn":
                settings = dict(r.get("settings", {}))
                md.append("- **Cairn**: durability `%s`, in-process (no "
                          "client/server hop); %s"
                          % (settings.get("durability", "?"),
                             ", ".join("%s=%s" % kv
                                       for kv in settings.items())))
            else:
                md.append("- **%s**: %s. Settings: %s. Client threads or "
                          "in-flight appends on `concurrent`: %s."
                          % (LABELS[s], r.get("durability", ""),
                             "; ".join("%s = %s" % kv for kv in
                                       r.get("settings", {}).items()),
                             (results.get((s, "concurrent")) or {})
                             .get("writers", "?")))
            break
    md.append("")
    for name in ("postgresql.conf.txt", "nats.conf.txt"):
        path = os.path.join(outdir, name)
        if os.path.exists(path):
            md.append("%s (appended to the defaults):" % name[:-4])
            md.append("")
            with open(path) as f:
                md.extend("    " + line.rstrip() for line in f)
            md.append("")

    md.append("## Commands")
    md.append("")
    path = os.path.join(outdir, "commands.txt")
    if os.path.exists(path):
        with open(path) as f:
            md.extend("    " + line.rstrip() for line in f)
    md.append("")

    charts = make_charts(outdir, systems, eps, lat, raws)
    if charts:
        md.append("Charts: " + ", ".join(charts) + ".")
    else:
        md.append("Charts: not drawn (python3-matplotlib is missing).")
    md.append("")

    with open(os.path.join(outdir, "report.md"), "w") as f:
        f.write("\n".join(md))
    print("\n".join(md))


def make_charts(outdir, systems, eps, lat, raws):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    colors = {"cairn": "#1f77b4", "postgresql": "#336791",
              "messagedb": "#8c564b", "sqlite": "#2ca02c",
              "jetstream": "#ff7f0e", "raw": "#999999"}
    columns = systems + ["raw"]
    width = 0.8 / len(columns)
    fig, ax = plt.subplots(figsize=(10, 5))
    for i, s in enumerate(columns):
        values = []
        for w in WORKLOADS:
            v = raws[w][0] if s == "raw" else eps(s, w)
            values.append(v or 0)
        xs = [k + (i - (len(columns) - 1) / 2) * width
              for k in range(len(WORKLOADS))]
        bars = ax.bar(xs, values, width, label=LABELS[s], color=colors[s],
                      hatch="//" if s == "raw" else None)
        for x, v in zip(xs, values):
            if v:
                ax.text(x, v * 1.1, fmt_rate(v), ha="center", va="bottom",
                        fontsize=6, rotation=90)
        del bars
    ax.set_yscale("log")
    ax.set_xticks(range(len(WORKLOADS)))
    ax.set_xticklabels(WORKLOADS)
    ax.set_ylabel("events/s (log scale)")
    ax.set_title("Throughput: Cairn, peers and the raw disk limit "
                 "(*JetStream without fsync)")
    ax.legend(fontsize=8, ncol=6, loc="upper left")
    top = max([eps(s, w) or 0 for s in systems for w in WORKLOADS] +
              [raws[w][0] or 0 for w in WORKLOADS])
    ax.set_ylim(100, max(top, 1000) * 20)
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, "throughput.png"), dpi=110)
    plt.close(fig)

    write = ["single", "concurrent", "batch"]
    fig, axes = plt.subplots(1, len(write), figsize=(13, 4.5))
    for ax, w in zip(axes, write):
        quantiles = ["p50", "p99", "p999"]
        width = 0.8 / len(systems)
        for i, s in enumerate(systems):
            values = [lat(s, w, q) or 0 for q in quantiles]
            xs = [k + (i - (len(systems) - 1) / 2) * width
                  for k in range(len(quantiles))]
            ax.bar(xs, values, width, label=LABELS[s], color=colors[s])
        ax.set_yscale("log")
        ax.set_xticks(range(len(quantiles)))
        ax.set_xticklabels(["p50", "p99", "p99.9"])
        ax.set_title(w)
        ax.set_ylabel("latency per append, us (log)")
    axes[0].legend(fontsize=8)
    fig.suptitle("Append latency percentiles")
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, "latency.png"), dpi=110)
    plt.close(fig)
    return ["throughput.png", "latency.png"]


if __name__ == "__main__":
    main()
