/*
 * number.h -- the one number parser of the tree: every whole number or fraction read from
 * a flag, a setting, a query parameter, a file or index metadata goes through here.
 *
 * The syntax is strict on purpose, the same everywhere: an optional '-' then digits (in the
 * given base), and nothing else -- no leading or trailing blanks, no '+', no "0x", no
 * trailing junk, never an empty string. strtol() and atoi() accept " 12", "+12", "12abc"
 * (as 12), "" (as 0) and wrap "-1" to ULONG_MAX in strtoul(); each of those once let a typo
 * through as a different number. Errors are values that tell a caller what to say: not a
 * number at all, or a number outside [min, max] (a number too large even for a long is
 * reported apart, but callers usually say "must be from MIN to MAX" for both).
 */
#ifndef QUIRE_NUMBER_H
#define QUIRE_NUMBER_H

#include <stddef.h>

enum num_status {
    NUM_OK = 0,
    NUM_SYNTAX = -1,   /* empty, a stray character, a sign without digits */
    NUM_OVERFLOW = -2, /* well formed, but does not fit a long (or a finite double) */
    NUM_RANGE = -3,    /* well formed, but below min or above max */
};

/* Parses all of the C string s as a decimal whole number in [min, max] (min <= max).
 * Returns NUM_OK with the value in *out, or a negative enum num_status (*out untouched). */
int num_parse_long(const char *s, long min, long max, long *out);

/* The same over exactly len bytes of s (no NUL needed), in base 8, 10 or 16 (hex digits in
 * either case, no "0x"): for fields cut out of a longer text, such as the "2024" of a date
 * or the frequency after a tab. */
int num_parse_span(const char *s, size_t len, int base, long min, long max, long *out);

/* Parses all of s as a decimal fraction in [min, max]: an optional '-', digits, an
 * optional '.' and digits (at least one digit in all), an optional exponent (e or E, an
 * optional sign, digits). No "inf", "nan", hex floats or blanks. */
int num_parse_double(const char *s, double min, double max, double *out);

/* A short phrase for a status ("is not a number", "is out of range", "is too large"), for
 * messages that have nothing better to say. Static storage. */
const char *num_strerror(int status);

#endif
