#!/usr/bin/python3
"""Read a Prometheus text exposition with the official client's parser
(Debian's python3-prometheus-client) and lint what the parser lets by:
every family has HELP and TYPE, counters' samples end in _total, a
histogram's buckets rise and end at +Inf with its _count. Print one
sample a line, NAME{LABEL="VALUE",...} VALUE, labels sorted; exit 1 with
the reason on the first problem."""
import re
import sys

from prometheus_client.parser import text_string_to_metric_families


def fail(why):
    print(f"promparse: {why}")
    sys.exit(1)


def main(path):
    text = open(path, encoding="utf-8").read()
    helps = set(re.findall(r"^# HELP (\S+) ", text, re.M))
    types = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
    try:
        families = list(text_string_to_metric_families(text))
    except ValueError as e:
        fail(f"unparseable: {e}")
    for fam in families:
        if fam.type == "unknown":
            fail(f"{fam.name}: no TYPE")
        declared = fam.name + ("_total" if fam.type == "counter" and
                               fam.name + "_total" in helps else "")
        if declared not in helps or declared not in types:
            fail(f"{fam.name}: no HELP or TYPE line")
        if fam.type == "counter" and any(
                not s.name.endswith("_total") for s in fam.samples):
            fail(f"{fam.name}: a counter sample without _total")
        if fam.type == "histogram":
            buckets = [s for s in fam.samples if s.name.endswith("_bucket")]
            values = [s.value for s in buckets]
            count = [s.value for s in fam.samples
                     if s.name.endswith("_count")]
            if values != sorted(values) or buckets[-1].labels["le"] != \
                    "+Inf" or count != [values[-1]]:
                fail(f"{fam.name}: buckets do not rise to +Inf = _count")
        for s in fam.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            print(f"{s.name}{{{labels}}} {s.value:.17g}" if labels
                  else f"{s.name} {s.value:.17g}")


if __name__ == "__main__":
    main(sys.argv[1])
