/*
 * print.h: print records for people (text) or for programs (JSON Lines).
 *
 * Every subcommand that shows records (inspect and run now; read and file
 * read later) prints them through this one printer, so the formats stay identical
 * everywhere. The formats are specified in doc/syncstream.1 (OUTPUT FORMATS);
 * in short:
 *
 * Text, one line per record, fields separated by one space:
 *
 *     SEQ TIME SOURCE KIND TEXT
 *
 *   SEQ     the record's sequence number, "-" for the partial line and when
 *           unknown (seq and time 0: read from a base-protocol host server)
 *   TIME    ISO-8601 UTC with microseconds, 2024-05-01T12:00:00.123456Z; "-"
 *           when unknown
 *   SOURCE  the producer's name, "-" when empty
 *   KIND    line, warning or error, followed by ",continued" (an over-long line
 *           that goes on in the next record), ",partial" (the unterminated last
 *           line), ",stderr" (written to an error channel) and ",exit" (the
 *           report that a child process ended, SS_REC_EXIT) when they apply
 *   TEXT    the bytes; each further line of a multi-line record (a grouped
 *           warning or error) follows on its own output line indented by four
 *           spaces. Control bytes other than tab, and bytes that are not valid
 *           UTF-8, are shown as \xHH. Text output is for reading; use JSON to
 *           recover the exact content.
 *
 * JSON Lines, one object per line:
 *
 *     {"seq":N,"time":"...","time_ns":N,"source":"...","kind":"line",
 *      "text":"...","continued":false,"partial":false,"stderr":false,"exit":false}
 *
 *   Strings are always valid JSON and valid UTF-8: control characters are
 *   escaped (\n, \t, ... or \u00XX; NUL is \u0000), and every byte that is not
 *   part of a well-formed UTF-8 sequence is replaced by U+FFFD (written
 *   \ufffd). The partial line has seq 0.
 *
 * Thread safety: none needed (the tool prints from one thread). Output goes
 * through stdio; check for write errors with ferror() or tool_finish_output().
 */
#ifndef SS_TOOL_PRINT_H
#define SS_TOOL_PRINT_H

#include <stdio.h>

#include <syncstream/record.h>

/* Room for any formatted time, terminator included. */
#define TOOL_TIME_MAX 48

typedef enum tool_format {
    TOOL_FORMAT_TEXT = 0,
    TOOL_FORMAT_JSON = 1,
} tool_format;

/*
 * tool_print_record - print one record in the given format, newline included.
 * Returns 0, or -1 when the stream is in error (a write failed).
 */
int tool_print_record(FILE *out, tool_format fmt, const ss_record *rec);

/*
 * tool_json_fields - a record's JSON object without its closing "}" and
 * newline, for a caller that adds fields of its own (`run --json`).
 */
void tool_json_fields(FILE *out, const ss_record *rec);

/* Write s (len bytes) as a JSON string, quotes included, by the rules above. */
void tool_json_string(FILE *out, const char *s, size_t len);

/*
 * tool_print_records - print every record of a set, oldest first.
 * Returns 0, or -1 when the stream is in error.
 */
int tool_print_records(FILE *out, tool_format fmt, const ss_records *set);

/*
 * tool_format_time - write time_ns (nanoseconds since the Unix epoch) as
 * ISO-8601 UTC with microseconds, "2024-05-01T12:00:00.123456Z", into buf.
 * The time is truncated (not rounded) to the microsecond. Returns buf.
 */
char *tool_format_time(char buf[TOOL_TIME_MAX], int64_t time_ns);

#endif
