/*
 * probe.h — upcase probe: does the path to an address keep TCP half-close,
 * pass resets on, keep idle connections? It runs the cases of a catalogue
 * through whatever sits in front of a probe listener (or against the
 * listener itself), each repeated, and gives each a verdict with what it
 * saw.
 */
#ifndef PROBE_H
#define PROBE_H

/* The probe subcommand; argv[0] is "probe". Returns the exit status: 0
 * no case failed or was inconclusive, 1 one did, 2 usage, 3 no probe
 * listener answers. */
int probe_main(int argc, char **argv);

#endif
