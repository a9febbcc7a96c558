/*
 * probe.h — upcase probe: does the path to an address keep TCP half-close,
 * and for how long? It runs checks through whatever sits in front of a
 * probe listener (or against the listener itself), each repeated, and
 * says pass, fail or inconclusive with what it saw.
 */
#ifndef PROBE_H
#define PROBE_H

/* The probe subcommand; argv[0] is "probe". Returns the exit status: 0
 * every check passed, 1 one did not, 2 usage, 3 the address is not
 * reachable. */
int probe_main(int argc, char **argv);

#endif
