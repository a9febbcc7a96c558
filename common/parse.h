/*
 * parse.h — the value syntax shared by the config file, -o and the client's
 * options: whole numbers, sizes with k/m/g (powers of 1024), durations with
 * h/m/s/ms, and yes/no. Strict: trailing junk, a sign or an overflow is an
 * error with a reason in the caller's buffer, never a silent default.
 */
#ifndef PARSE_H
#define PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A decimal whole number in [min, max]. */
int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    char *err, size_t errlen);

/* Bytes: "4096", "64k", "1m", "2g" (powers of 1024), at most max. */
int parse_size(const char *s, uint64_t max, uint64_t *out, char *err,
    size_t errlen);

/* Milliseconds: "250ms", "30s", "1.5s", "5m", "1m30s", "1h"; parts from
 * the largest unit down, each once, a fraction only in the last, and whole
 * milliseconds in all. A bare number, alone, is seconds: "90", "0.5". */
int parse_duration(const char *s, uint64_t *out_ms, char *err,
    size_t errlen);

/* "yes", "on" or "true"; "no", "off" or "false"; in any case. */
int parse_bool(const char *s, bool *out, char *err, size_t errlen);

/* Format bytes the way parse_size reads them, with the largest exact unit. */
char *format_size(uint64_t bytes, char *buf, size_t buflen);

/* Format milliseconds the way parse_duration reads them: "1m30s". */
char *format_duration(uint64_t ms, char *buf, size_t buflen);

#endif
