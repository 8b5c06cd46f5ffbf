#!/usr/bin/python3
"""bench/summary.py: the table of one bench run (bench/README.md).

    summary.py RESULTS_DIR
    summary.py --rate TIMES N M START RUNS OUT.tsv

The second form is workload 11's arithmetic: from the arrival times at
the sink (one "%.3f" a line, sink -T), the limit N per 60 s, the M
messages queued, the flush loop's START time and its number of RUNS, it
writes OUT.tsv (key, value) and prints the peak (the most arrivals in any
60 s), which run.sh checks for integrity.

Reads samples.tsv (workload, tool, units, wall_ns, rss_kb, fails),
callgrind.tsv, integrity.tsv, notes.txt and machine.txt written by run.sh
and prints Markdown: the machine, one row per workload and tool (median /
min / max wall, peak RSS, throughput, postie's ratio to that tool), the
callgrind counts, the issue's targets met or missed, and the integrity
checks.
"""

import collections
import os
import statistics
import sys

# workload -> (description, throughput unit)
WORKLOADS = collections.OrderedDict([
    ("1-version", ("start-up: --version", "runs/s")),
    ("2-seq", ("2 KiB message, one process each, sequential", "msg/s")),
    ("2-par4", ("2 KiB messages, 4 processes in parallel (per batch)",
                "msg/s")),
    ("3-seq", ("STARTTLS 2 KiB message, sequential", "msg/s")),
    ("3-par4", ("STARTTLS 2 KiB messages, 4 in parallel (per batch)",
                "msg/s")),
    ("4-big", ("one big message on stdin", "MB/s")),
    ("4-big-pipe", ("one big message from a pipe", "MB/s")),
    ("4-big-smtp-sink", ("one big message, into Postfix smtp-sink", "MB/s")),
    ("5-rcpts", ("one message to many recipients", "msg/s")),
    ("6-attach", ("compose with a binary attachment", "MB/s")),
    ("7-flush", ("queue flush: one postie -q vs one process each",
                 "msg/s")),
    ("9-bs", ("-bs: one SMTP session vs one process each", "msg/s")),
    ("10-flush", ("flush over a 20 ms relay: 1/4/8 connections vs one "
                  "process each", "msg/s")),
    # 11-rate has no samples: its figures are in rate.tsv (rate_figures())
    ("8-msg-small", ("memory: small message", "MB/s")),
    ("8-msg-big", ("memory: big message", "MB/s")),
    ("8-att-small", ("memory: small attachment", "MB/s")),
    ("8-att-big", ("memory: big attachment", "MB/s")),
])
MIB = 1024.0


def fmt_time(ns):
    ms = ns / 1e6
    if ms >= 10000:
        return "%.1f s" % (ms / 1000)
    if ms >= 100:
        return "%.0f ms" % ms
    if ms >= 10:
        return "%.1f ms" % ms
    return "%.2f ms" % ms


def fmt_rate(v, unit):
    if v >= 100:
        return "%.0f %s" % (v, unit)
    return "%.1f %s" % (v, unit)


def load(path):
    rows = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if line.strip():
                    rows.append(line.rstrip("\n").split("\t"))
    return rows


WINDOW = 60.0


def rate_figures(times, n, m, start, runs):
    """Workload 11: the figures of a flush under rate_limit n/minute.

    peak: the most arrivals in any window [s, s + 60); for sorted times it
    is over N exactly when some t[i] - t[i - n] < 60, so the slack
    t[i] - t[i - n] - 60 is given too (its minimum: how close the limit
    came to being tripped; its median: what each freed slot waited for,
    the cost of rounding next_attempt and of the timer's period; the
    sustained ratio 60 / (60 + median slack) is the rate, ÷ N, of a queue
    that stays over the limit).
    achieved: the arrivals in the first k full windows from the first
    arrival, k = floor((m - 1) / n) (windows that had more than n waiting),
    divided by k * n.
    """
    t = sorted(times)
    f = collections.OrderedDict()
    f["limit"] = n
    f["messages"] = m
    f["arrived"] = len(t)
    f["runs"] = runs
    peak, j = 0, 0
    for i in range(len(t)):
        while t[i] - t[j] >= WINDOW:
            j += 1
        peak = max(peak, i - j + 1)
    f["peak"] = peak
    f["peak_ratio"] = "%.3f" % (peak / n)
    slack = [t[i] - t[i - n] - WINDOW for i in range(n, len(t))]
    f["slack_min_s"] = "%.3f" % min(slack) if slack else "-"
    f["slack_median_s"] = "%.3f" % statistics.median(slack) if slack else "-"
    # the steady rate while the queue stays over the limit, ÷ N
    f["sustained_ratio"] = "%.3f" % (WINDOW / (WINDOW + statistics.median(
        slack))) if slack else "-"
    k = (m - 1) // n
    f["full_windows"] = k
    if k > 0:
        got = sum(1 for x in t if x < t[0] + k * WINDOW) if t else 0
        f["achieved"] = got
        f["achieved_ratio"] = "%.3f" % (got / (k * n))
    else:
        f["achieved"] = f["achieved_ratio"] = "-"
    if t:
        total = t[-1] - start
        f["total_s"] = "%.3f" % total
        f["span_s"] = "%.3f" % (t[-1] - t[0])
        f["per_minute"] = "%.1f" % (len(t) / total * 60 if total > 0 else 0)
    else:
        f["total_s"] = f["span_s"] = "0.000"
        f["per_minute"] = "0.0"
    return f


def rate_main(args):
    times_file, n, m, start, runs, out = args
    times = []
    with open(times_file) as fp:
        for line in fp:
            if line.strip():
                times.append(float(line))
    f = rate_figures(times, int(n), int(m), float(start), int(runs))
    with open(out, "w") as fp:
        for key, v in f.items():
            fp.write("%s\t%s\n" % (key, v))
    print(f["peak"])


def main():
    if len(sys.argv) == 8 and sys.argv[1] == "--rate":
        return rate_main(sys.argv[2:])
    d = sys.argv[1]
    samples = collections.OrderedDict()
    for wl, tool, units, wall, rss, fails in load(os.path.join(d,
                                                               "samples.tsv")):
        s = samples.setdefault((wl, tool), {"units": int(units), "wall": [],
                                            "rss": [], "fails": 0})
        s["wall"].append(int(wall))
        s["rss"].append(int(rss))
        s["fails"] += int(fails)
    stats = {}
    for key, s in samples.items():
        med = statistics.median(s["wall"])
        stats[key] = dict(s, med=med, min=min(s["wall"]), max=max(s["wall"]),
                          peak=max(s["rss"]))

    if os.path.exists(os.path.join(d, "machine.txt")):
        print("```")
        print(open(os.path.join(d, "machine.txt")).read().rstrip())
        print("```")
        print()
    print("| workload | tool | n | median | min | max | peak RSS | "
          "throughput | postie ÷ tool |")
    print("|---|---|--:|--:|--:|--:|--:|--:|--:|")
    order = list(WORKLOADS) + sorted({k[0] for k in stats} - set(WORKLOADS))
    for wl in order:
        tools = [k[1] for k in stats if k[0] == wl]
        if not tools:
            continue
        ref = {"7-flush": "postie-q", "9-bs": "postie-bs",
               "10-flush": "postie-c1"}.get(wl, "postie")
        unit = WORKLOADS.get(wl, ("", "/s"))[1]
        for tool in tools:
            s = stats[(wl, tool)]
            secs = s["med"] / 1e9
            if unit == "MB/s":
                rate = s["units"] / 1e6 / secs
            else:
                rate = s["units"] / secs
            if tool == ref or (wl, ref) not in stats:
                ratio = "—"
            else:
                ratio = "%.2f×" % (stats[(wl, ref)]["med"] / s["med"])
            name = tool + (" (%d failed)" % s["fails"] if s["fails"] else "")
            print("| %s | %s | %d | %s | %s | %s | %.1f MiB | %s | %s |" % (
                wl, name, len(s["wall"]), fmt_time(s["med"]),
                fmt_time(s["min"]), fmt_time(s["max"]), s["peak"] / MIB,
                fmt_rate(rate, unit), ratio))
    print()
    print("Wall: per process run, except -par4, 7-flush, 9-bs and 10-flush's postie-cN (per batch of "
          "n×units messages, see throughput). Ratio: postie's median wall "
          "÷ the tool's (below 1: postie is faster).")

    rl = dict((r[0], r[1]) for r in load(os.path.join(d, "rate.tsv"))
                if len(r) == 2)
    if rl:
        print()
        print("11-rate, a flush under rate_limit %s/minute of %s queued "
              "messages, one `postie -q` (%s run(s) with the `-q --due` fallback): %s "
              "arrived in %.1f s (%s msg/min, first to last %.1f s); peak "
              "%s in any 60 s (%.2f×), achieved %s of %d in %s full "
              "window(s) (%s); slack over 60 s between a message and the "
              "one %s before it: min %s s, median %s s (sustained %s×)." % (
                  rl["limit"], rl["messages"], rl["runs"],
                  rl["arrived"], float(rl["total_s"]), rl["per_minute"],
                  float(rl["span_s"]), rl["peak"], float(rl["peak_ratio"]),
                  rl["achieved"], int(rl["full_windows"]) *
                  int(rl["limit"]), rl["full_windows"],
                  "%.2f×" % float(rl["achieved_ratio"])
                  if rl["achieved_ratio"] != "-" else "n/a",
                  rl["limit"], rl["slack_min_s"],
                  rl["slack_median_s"], rl.get("sustained_ratio", "-")))

    cg = {t: int(ir) for t, ir in load(os.path.join(d, "callgrind.tsv"))}
    if cg:
        print()
        print("Callgrind, one 2 KiB send (instructions, Ir): " + ", ".join(
            "%s %s" % (t, format(ir, ",")) for t, ir in cg.items()))

    def st(wl, tool):
        return stats.get((wl, tool))

    def ratio(wl, a, b):
        if st(wl, a) and st(wl, b):
            return st(wl, a)["med"] / st(wl, b)["med"]
        return None

    targets = []

    def target(name, value, ok, detail):
        if value is None:
            targets.append((name, "n/a", detail))
        else:
            targets.append((name, "met" if ok else "MISSED", detail))

    r = ratio("2-seq", "postie", "curl")
    target("small message ≤ 0.8× curl", r, r is not None and r <= 0.8,
           "%.2f×" % r if r else "")
    r = ratio("3-seq", "postie", "curl")
    target("STARTTLS message ≤ 0.8× curl", r, r is not None and r <= 0.8,
           "%.2f×" % r if r else "")
    if "postie" in cg and "msmtp" in cg:
        r = cg["postie"] / cg["msmtp"]
        target("instructions ≤ msmtp's", r, r <= 1.0, "%.2f× (%s vs %s)" % (
            r, format(cg["postie"], ","), format(cg["msmtp"], ",")))
    else:
        target("instructions ≤ msmtp's", None, False, "no callgrind run")
    p, c = st("4-big", "postie"), st("4-big", "raw")
    if p and c:
        r = c["med"] / p["med"]
        target("big message ≥ 0.95× the sink ceiling", r, r >= 0.95,
               "%.2f× (%.0f vs %.0f MB/s)" % (
                   r, p["units"] / p["med"] * 1e3, c["units"] / c["med"] * 1e3))
        target("big message peak RSS ≤ 12 MiB", p["peak"],
               p["peak"] <= 12 * 1024, "%.1f MiB" % (p["peak"] / MIB))
    r = ratio("5-rcpts", "postie", "curl")
    target("many recipients ≤ 1.0× curl", r, r is not None and r <= 1.0,
           "%.2f×" % r if r else "")
    r = ratio("6-attach", "postie", "s-nail")
    target("attachment ≤ 0.6× s-nail", r, r is not None and r <= 0.6,
           "%.2f×" % r if r else "postie -a not available")
    p = st("6-attach", "postie")
    target("attachment peak RSS ≤ 12 MiB", p and p["peak"],
           p is not None and p["peak"] <= 12 * 1024,
           "%.1f MiB" % (p["peak"] / MIB) if p else "postie -a not available")
    p = st("7-flush", "postie-q")
    rate = p["units"] / (p["med"] / 1e9) if p else None
    target("queue flush ≥ 700 msg/s", rate, rate is not None and rate >= 700,
           "%.0f msg/s" % rate if rate else "no queue in this build")
    r = ratio("9-bs", "postie-bs", "postie-procs")
    target("-bs session < one process each", r, r is not None and r < 1.0,
           "%.2f×" % r if r else "no -bs in this build")
    r = ratio("10-flush", "postie-c1", "postie-c8")
    target("flush over a 20 ms relay: 8 connections ≥ 6× one", r,
           r is not None and r >= 6.0,
           "%.1f×" % r if r else "no queue_connections in this build")
    name = "rate_limit: peak ≤ 1.00× N and achieved within 5 % (≥ 0.95×)"
    if rl and rl["achieved_ratio"] != "-":
        pk, ach = float(rl["peak_ratio"]), float(rl["achieved_ratio"])
        target(name, pk, pk <= 1.0 and ach >= 0.95,
               "peak %.2f×, achieved %.2f× (%s/minute, %s messages)" % (
                   pk, ach, rl["limit"], rl["messages"]))
    else:
        target(name, None, False, "no rate_limit in this build"
               if not rl else "no full window")
    for kind in ("msg", "att"):
        a, b = st("8-%s-small" % kind, "postie"), st("8-%s-big" % kind,
                                                     "postie")
        name = "flat memory, %s: big ≤ small + 1 MiB" % (
            "message" if kind == "msg" else "attachment")
        if a and b:
            delta = b["peak"] - a["peak"]
            target(name, delta, delta <= 1024, "%.1f → %.1f MiB (%+d KiB)" % (
                a["peak"] / MIB, b["peak"] / MIB, delta))
        else:
            target(name, None, False, "not run")
    print()
    print("| target | status | measured |")
    print("|---|---|---|")
    for name, status, detail in targets:
        print("| %s | %s | %s |" % (name, status, detail))

    integ = load(os.path.join(d, "integrity.tsv"))
    bad = [r for r in integ if r[1] != "ok"]
    print()
    print("Integrity: %d checks, %d failed%s" % (
        len(integ), len(bad), "".join("\n- %s: %s" % (r[0], r[2])
                                      for r in bad)))
    notes = os.path.join(d, "notes.txt")
    if os.path.exists(notes):
        for line in open(notes):
            if line.startswith(("postie -", "attachment not",
                                "workload 11")):
                print("Note: " + line.rstrip())


if __name__ == "__main__":
    main()
