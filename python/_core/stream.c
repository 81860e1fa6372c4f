/*
 * _core.Stream: an ss_stream (syncstream/stream.h) for syncstream.stream, the
 * pure-Python layer that gives threadedstream's API on it.
 *
 * Every blocking call releases the GIL and waits in slices of at most
 * SLICE_MS, calling PyErr_CheckSignals between two, so that Ctrl-C interrupts
 * a wait within that slice: the library's calls take a deadline and no wake
 * fd, and a slice that times out has taken nothing (read_until, read_line,
 * expect and read leave the buffer as it was; a write larger than the write
 * buffer says how much it took, and the next slice goes on from there).
 *
 * A failure with data at stake raises _core.StreamFailure(code, message,
 * read, unsent): code the library's error code, read and unsent the payload's
 * bytes. syncstream.stream turns it into threadedstream's exceptions.
 */
#include "core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <syncstream/common.h>
#include <syncstream/ssh.h>
#include <syncstream/stream.h>
#include <syncstream/transport.h>

/* The longest a blocking call waits without looking at signals. */
#define SLICE_MS 50
/* read()'s buffer when nothing has arrived yet. */
#define READ_ROOM (64 * 1024)

typedef struct {
    PyObject_HEAD ss_stream *s; /* NULL until opened */
} Stream;

static PyObject *failure_type; /* _core.StreamFailure */

/* Raise StreamFailure for rc with p's bytes (extra appended to the unsent
 * part: a write's bytes the stream never took). Returns NULL. */
static PyObject *raise_failure(int rc, const ss_stream_payload *p, const char *extra,
                               size_t extra_len)
{
    PyObject *read = PyBytes_FromStringAndSize(p->read ? p->read : "", (Py_ssize_t)p->read_len);
    PyObject *unsent = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(p->unsent_len + extra_len));
    if (read && unsent) {
        char *u = PyBytes_AsString(unsent);
        if (p->unsent_len)
            memcpy(u, p->unsent, p->unsent_len);
        if (extra_len)
            memcpy(u + p->unsent_len, extra, extra_len);
        PyObject *exc =
            PyObject_CallFunction(failure_type, "(isOO)", rc, ss_strerror(rc), read, unsent);
        if (exc) {
            PyErr_SetObject(failure_type, exc);
            Py_DECREF(exc);
        }
    }
    Py_XDECREF(read);
    Py_XDECREF(unsent);
    return NULL;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A timeout in seconds (None: no limit) as a deadline in ms (-1: none). */
static int deadline_of(PyObject *timeout, int64_t *ret)
{
    if (!timeout || timeout == Py_None) {
        *ret = -1;
        return 0;
    }
    double t = PyFloat_AsDouble(timeout);
    if (t == -1.0 && PyErr_Occurred())
        return -1;
    if (t < 0)
        t = 0;
    if (t > 1e9)
        t = 1e9;
    *ret = now_ms() + (int64_t)(t * 1000.0 + 0.999);
    return 0;
}

/* The next slice's timeout; 0 once the deadline passed, for a last call
 * that does not wait and fills the payload. */
static int slice(int64_t deadline)
{
    if (deadline < 0)
        return SLICE_MS;
    int64_t left = deadline - now_ms();
    if (left <= 0)
        return 0;
    return left < SLICE_MS ? (int)left : SLICE_MS;
}

static ss_stream *get(Stream *self)
{
    if (!self->s)
        PyErr_SetString(PyExc_ValueError, "syncstream: Stream is not open");
    return self->s;
}

/* ---- Opening ---------------------------------------------------------- */

static PyObject *make(PyTypeObject *type, ss_transport *t, const char *line_sep, Py_ssize_t sep_len)
{
    if (sep_len == 0) {
        t->ops->close(t->impl);
        PyErr_SetString(PyExc_ValueError, "syncstream: the line separator is empty");
        return NULL;
    }
    char *sep = strndup(line_sep, (size_t)sep_len);
    if (!sep) {
        t->ops->close(t->impl);
        return PyErr_NoMemory();
    }
    ss_stream_opts opts = {.line_sep = sep};
    ss_stream *s;
    int rc = ss_stream_new(&s, NULL, t, &opts);
    free(sep);
    if (rc < 0)
        return ss__py_error(rc, "Stream");
    allocfunc alloc = PyType_GetSlot(type, Py_tp_alloc);
    Stream *self = (Stream *)alloc(type, 0);
    if (!self) {
        ss_stream_free(s);
        return NULL;
    }
    self->s = s;
    return (PyObject *)self;
}

/* A transport constructor failed: StreamFailure with an empty payload and
 * why (a sentence of the transport's) or the code's text. */
static PyObject *open_error(int rc, const char *why)
{
    PyObject *exc = PyObject_CallFunction(failure_type, "(isyy)", rc,
                                          why && why[0] ? why : ss_strerror(rc), "", "");
    if (exc) {
        PyErr_SetObject(failure_type, exc);
        Py_DECREF(exc);
    }
    return NULL;
}

static PyObject *Stream_open_uri(PyObject *cls, PyObject *args)
{
    const char *uri, *sep;
    Py_ssize_t sep_len;
    int timeout_ms;
    if (!PyArg_ParseTuple(args, "siy#:open_uri", &uri, &timeout_ms, &sep, &sep_len))
        return NULL;
    char why[256] = "";
    if (ss_transport_uri_check(uri, NULL, 0, why, sizeof(why)) < 0) {
        PyErr_Format(PyExc_ValueError, "syncstream: %s: %s", uri, why[0] ? why : "bad URI");
        return NULL;
    }
    ss_transport t;
    int rc;
    Py_BEGIN_ALLOW_THREADS rc = ss_transport_open_uri(&t, uri, timeout_ms);
    Py_END_ALLOW_THREADS if (rc < 0) return open_error(rc, NULL);
    return make((PyTypeObject *)cls, &t, sep, sep_len);
}

static PyObject *Stream_tcp(PyObject *cls, PyObject *args)
{
    const char *host, *port, *sep;
    Py_ssize_t sep_len;
    int timeout_ms;
    if (!PyArg_ParseTuple(args, "ssiy#:tcp", &host, &port, &timeout_ms, &sep, &sep_len))
        return NULL;
    ss_tcp_opts o = {.connect_timeout_ms = timeout_ms};
    ss_transport t;
    int rc;
    Py_BEGIN_ALLOW_THREADS rc = ss_transport_tcp_connect(&t, host, port, &o);
    Py_END_ALLOW_THREADS if (rc < 0) return open_error(rc, NULL);
    return make((PyTypeObject *)cls, &t, sep, sep_len);
}

static PyObject *Stream_serial(PyObject *cls, PyObject *args)
{
    const char *path, *sep;
    Py_ssize_t sep_len;
    unsigned baud, data_bits, stop_bits;
    int parity, rtscts, xonxoff, reopen_ms;
    if (!PyArg_ParseTuple(args, "sIIiIppiy#:serial", &path, &baud, &data_bits, &parity, &stop_bits,
                          &rtscts, &xonxoff, &reopen_ms, &sep, &sep_len))
        return NULL;
    ss_serial_opts o = {.baud = baud,
                        .data_bits = data_bits,
                        .parity = (ss_parity)parity,
                        .stop_bits = stop_bits,
                        .rtscts = rtscts,
                        .xonxoff = xonxoff,
                        .reopen_ms = reopen_ms};
    ss_transport t;
    int rc;
    Py_BEGIN_ALLOW_THREADS rc = ss_transport_serial_open(&t, path, &o);
    Py_END_ALLOW_THREADS if (rc < 0) return open_error(rc, NULL);
    return make((PyTypeObject *)cls, &t, sep, sep_len);
}

static PyObject *Stream_exec(PyObject *cls, PyObject *args)
{
    PyObject *argv_obj;
    const char *sep;
    Py_ssize_t sep_len;
    int pty, echo;
    if (!PyArg_ParseTuple(args, "O!ppy#:exec", &PyList_Type, &argv_obj, &pty, &echo, &sep,
                          &sep_len))
        return NULL;
    Py_ssize_t n = PyList_Size(argv_obj);
    if (n < 1) {
        PyErr_SetString(PyExc_ValueError, "syncstream: ExecStream: argv is empty");
        return NULL;
    }
    char **argv = calloc((size_t)n + 1, sizeof(*argv));
    if (!argv)
        return PyErr_NoMemory();
    for (Py_ssize_t i = 0; i < n; i++) {
        /* bytes (os.fsencode'd by the Python layer); valid while the list is */
        argv[i] = PyBytes_AsString(PyList_GetItem(argv_obj, i));
        if (!argv[i]) {
            free(argv);
            return NULL;
        }
    }
    unsigned flags = (pty ? SS_EXEC_PTY : 0) | (pty && !echo ? SS_EXEC_NOECHO : 0);
    ss_transport t;
    int rc;
    Py_BEGIN_ALLOW_THREADS rc = ss_transport_exec(&t, argv, flags);
    Py_END_ALLOW_THREADS free(argv);
    if (rc < 0)
        return open_error(rc, NULL);
    return make((PyTypeObject *)cls, &t, sep, sep_len);
}

/* None or a str argument. */
static int opt_str(PyObject *o, const char **ret)
{
    if (o == Py_None) {
        *ret = NULL;
        return 0;
    }
    *ret = PyUnicode_AsUTF8AndSize(o, NULL);
    return *ret ? 0 : -1;
}

static PyObject *Stream_ssh(PyObject *cls, PyObject *args)
{
    PyObject *host, *user, *password, *key, *command, *known_hosts;
    const char *sep;
    Py_ssize_t sep_len;
    int port, accept_new, pty, timeout_ms;
    if (!PyArg_ParseTuple(args, "OOOOiOOppiy#:ssh", &host, &user, &password, &key, &port, &command,
                          &known_hosts, &accept_new, &pty, &timeout_ms, &sep, &sep_len))
        return NULL;
    ss_ssh_opts o = {.port = port,
                     .accept_unknown_hostkey = accept_new,
                     .pty = pty,
                     .connect_timeout_ms = timeout_ms};
    if (opt_str(host, &o.host) < 0 || opt_str(user, &o.user) < 0 ||
        opt_str(password, &o.password) < 0 || opt_str(key, &o.identity) < 0 ||
        opt_str(command, &o.command) < 0 || opt_str(known_hosts, &o.known_hosts) < 0)
        return NULL;
    ss_transport t;
    char why[256] = "";
    int rc;
    Py_BEGIN_ALLOW_THREADS rc = ss_transport_ssh(&t, &o, why, sizeof(why));
    Py_END_ALLOW_THREADS if (rc < 0) return open_error(rc, why);
    return make((PyTypeObject *)cls, &t, sep, sep_len);
}

/* parse_ssh_uri(uri) -> (host, port, user or None, command or None) */
static PyObject *Stream_parse_ssh_uri(PyObject *cls, PyObject *args)
{
    const char *uri;
    if (!PyArg_ParseTuple(args, "s:parse_ssh_uri", &uri))
        return NULL;
    ss_ssh_opts o = {0};
    char *storage = NULL;
    int rc = ss_ssh_parse_uri(uri, &o, &storage);
    if (rc < 0)
        return ss__py_error(rc, uri);
    PyObject *out = Py_BuildValue("(sizz)", o.host, o.port ? o.port : 22, o.user, o.command);
    free(storage);
    return out;
}

/* ---- Reading ---------------------------------------------------------- */

static PyObject *Stream_read(Stream *self, PyObject *args)
{
    Py_ssize_t count;
    PyObject *timeout = Py_None;
    if (!PyArg_ParseTuple(args, "n|O:read", &count, &timeout))
        return NULL;
    ss_stream *s = get(self);
    int64_t deadline;
    if (!s || deadline_of(timeout, &deadline) < 0)
        return NULL;
    if (count < 0)
        count = 0;
    /* Room for what is there (a read takes at least that much), else for a
     * first arrival: a huge count costs no huge allocation per call. */
    size_t ready = ss_stream_ready(s);
    size_t room = ready ? ready : READ_ROOM;
    if ((size_t)count > room)
        count = (Py_ssize_t)room;
    PyObject *out = PyBytes_FromStringAndSize(NULL, count);
    if (!out)
        return NULL;
    ss_stream_payload p = {0};
    ssize_t n = -ETIMEDOUT;
    for (;;) {
        int ms = slice(deadline);
        char *buf = PyBytes_AsString(out);
        Py_BEGIN_ALLOW_THREADS n = ss_stream_read(s, buf, (size_t)count, ms, &p);
        Py_END_ALLOW_THREADS if (n != -ETIMEDOUT || ms == 0) break;
        ss_stream_payload_clear(&p);
        if (PyErr_CheckSignals() < 0) {
            Py_DECREF(out);
            return NULL;
        }
    }
    if (n < 0) {
        Py_DECREF(out);
        raise_failure((int)n, &p, NULL, 0);
        ss_stream_payload_clear(&p);
        return NULL;
    }
    if (n < count) {
        PyObject *cut = PyBytes_FromStringAndSize(PyBytes_AsString(out), n);
        Py_DECREF(out);
        return cut;
    }
    return out;
}

/* read_until(pattern) or, with pattern None, read_line(). */
static PyObject *until_or_line(Stream *self, const char *pat, Py_ssize_t plen, PyObject *timeout)
{
    ss_stream *s = get(self);
    int64_t deadline;
    if (!s || deadline_of(timeout, &deadline) < 0)
        return NULL;
    ss_stream_payload p = {0};
    char *data = NULL;
    size_t len = 0;
    int rc = -ETIMEDOUT;
    for (;;) {
        int ms = slice(deadline);
        Py_BEGIN_ALLOW_THREADS rc =
            pat ? ss_stream_read_until(s, pat, (size_t)plen, ms, &data, &len, &p)
                : ss_stream_read_line(s, ms, &data, &len, &p);
        Py_END_ALLOW_THREADS if (rc != -ETIMEDOUT || ms == 0) break;
        ss_stream_payload_clear(&p);
        if (PyErr_CheckSignals() < 0)
            return NULL;
    }
    if (rc == -EINVAL || rc == -ENOMEM)
        return ss__py_error(rc, "Stream");
    if (rc < 0) {
        raise_failure(rc, &p, NULL, 0);
        ss_stream_payload_clear(&p);
        return NULL;
    }
    PyObject *out = PyBytes_FromStringAndSize(data, (Py_ssize_t)len);
    free(data);
    return out;
}

static PyObject *Stream_read_until(Stream *self, PyObject *args)
{
    const char *pat;
    Py_ssize_t plen;
    PyObject *timeout = Py_None;
    if (!PyArg_ParseTuple(args, "y#|O:read_until", &pat, &plen, &timeout))
        return NULL;
    if (plen == 0) {
        PyErr_SetString(PyExc_ValueError, "syncstream: read_until: the target is empty");
        return NULL;
    }
    return until_or_line(self, pat, plen, timeout);
}

static PyObject *Stream_read_line(Stream *self, PyObject *args)
{
    PyObject *timeout = Py_None;
    if (!PyArg_ParseTuple(args, "|O:read_line", &timeout))
        return NULL;
    return until_or_line(self, NULL, 0, timeout);
}

/* expect(patterns: list of bytes, regex: bool, timeout) -> (index, data, match_start) */
static PyObject *Stream_expect(Stream *self, PyObject *args)
{
    PyObject *list, *timeout = Py_None;
    int regex;
    if (!PyArg_ParseTuple(args, "O!p|O:expect", &PyList_Type, &list, &regex, &timeout))
        return NULL;
    ss_stream *s = get(self);
    int64_t deadline;
    if (!s || deadline_of(timeout, &deadline) < 0)
        return NULL;
    Py_ssize_t n = PyList_Size(list);
    if (n < 1) {
        PyErr_SetString(PyExc_ValueError, "syncstream: expect: no pattern");
        return NULL;
    }
    ss_pattern *pats = calloc((size_t)n, sizeof(*pats));
    if (!pats)
        return PyErr_NoMemory();
    for (Py_ssize_t i = 0; i < n; i++) {
        char *text;
        Py_ssize_t len;
        if (PyBytes_AsStringAndSize(PyList_GetItem(list, i), &text, &len) < 0) {
            free(pats);
            return NULL;
        }
        if (len == 0 && !regex) {
            free(pats);
            PyErr_SetString(PyExc_ValueError, "syncstream: expect: an empty pattern");
            return NULL;
        }
        /* len 0 means strlen: an empty regex is "" (matches at once) */
        pats[i] = (ss_pattern){.text = len ? text : "()",
                               .len = len ? (size_t)len : 2,
                               .kind = regex ? SS_PATTERN_REGEX : SS_PATTERN_EXACT};
    }
    ss_stream_match m = {0};
    ss_stream_payload p = {0};
    int rc = -ETIMEDOUT;
    for (;;) {
        int ms = slice(deadline);
        Py_BEGIN_ALLOW_THREADS rc = ss_stream_expect(s, pats, (size_t)n, ms, &m, &p);
        Py_END_ALLOW_THREADS if (rc != -ETIMEDOUT || ms == 0) break;
        ss_stream_payload_clear(&p);
        if (PyErr_CheckSignals() < 0) {
            free(pats);
            return NULL;
        }
    }
    free(pats);
    if (rc == -EINVAL)
        return PyErr_Format(PyExc_ValueError, "syncstream: expect: a pattern does not compile");
    if (rc == -ENOMEM)
        return PyErr_NoMemory();
    if (rc < 0) {
        raise_failure(rc, &p, NULL, 0);
        ss_stream_payload_clear(&p);
        return NULL;
    }
    PyObject *out =
        Py_BuildValue("(iy#n)", m.index, m.data, (Py_ssize_t)m.len, (Py_ssize_t)m.match_start);
    ss_stream_match_clear(&m);
    return out;
}

static PyObject *Stream_peek(Stream *self, PyObject *args)
{
    Py_ssize_t count;
    if (!PyArg_ParseTuple(args, "n:peek", &count))
        return NULL;
    ss_stream *s = get(self);
    if (!s)
        return NULL;
    if (count < 0)
        count = 0;
    size_t ready = ss_stream_ready(s);
    if ((size_t)count > ready)
        count = (Py_ssize_t)ready;
    PyObject *out = PyBytes_FromStringAndSize(NULL, count);
    if (!out)
        return NULL;
    ssize_t n = ss_stream_peek(s, PyBytes_AsString(out), (size_t)count);
    if (n < 0) {
        Py_DECREF(out);
        ss_stream_payload p = {0};
        return raise_failure((int)n, &p, NULL, 0);
    }
    if (n < count) {
        PyObject *cut = PyBytes_FromStringAndSize(PyBytes_AsString(out), n);
        Py_DECREF(out);
        return cut;
    }
    return out;
}

static PyObject *Stream_ready(Stream *self, PyObject *unused)
{
    ss_stream *s = get(self);
    return s ? PyLong_FromSize_t(ss_stream_ready(s)) : NULL;
}

static PyObject *Stream_waiting(Stream *self, PyObject *unused)
{
    ss_stream *s = get(self);
    return s ? PyLong_FromSize_t(ss_stream_waiting(s)) : NULL;
}

static PyObject *Stream_contains(Stream *self, PyObject *args)
{
    const char *pat;
    Py_ssize_t plen;
    if (!PyArg_ParseTuple(args, "y#:contains", &pat, &plen))
        return NULL;
    ss_stream *s = get(self);
    if (!s)
        return NULL;
    if (plen == 0)
        Py_RETURN_TRUE; /* as `b"" in buffer` */
    int rc = ss_stream_contains(s, pat, (size_t)plen);
    if (rc < 0)
        return ss__py_error(rc, "Stream");
    return PyBool_FromLong(rc);
}

static PyObject *Stream_consume(Stream *self, PyObject *unused)
{
    ss_stream *s = get(self);
    return s ? PyLong_FromSize_t(ss_stream_consume(s)) : NULL;
}

static PyObject *Stream_take_stderr(Stream *self, PyObject *unused)
{
    ss_stream *s = get(self);
    if (!s)
        return NULL;
    char *data = NULL;
    size_t len = 0;
    int rc = ss_stream_take_stderr(s, &data, &len);
    if (rc < 0)
        return ss__py_error(rc, "Stream");
    PyObject *out = PyBytes_FromStringAndSize(data ? data : "", (Py_ssize_t)len);
    free(data);
    return out;
}

/* ---- Writing ---------------------------------------------------------- */

static PyObject *Stream_write(Stream *self, PyObject *args)
{
    Py_buffer b;
    PyObject *timeout = Py_None;
    if (!PyArg_ParseTuple(args, "y*|O:write", &b, &timeout))
        return NULL;
    ss_stream *s = get(self);
    int64_t deadline;
    if (!s || deadline_of(timeout, &deadline) < 0) {
        PyBuffer_Release(&b);
        return NULL;
    }
    const char *data = b.buf;
    size_t left = (size_t)b.len;
    ss_stream_payload p = {0};
    int rc = 0;
    for (;;) {
        int ms = slice(deadline);
        Py_BEGIN_ALLOW_THREADS rc = ss_stream_write(s, data, left, ms, &p);
        Py_END_ALLOW_THREADS if (rc != -ETIMEDOUT && rc != -ENOBUFS) break;
        data += p.written;
        left -= p.written;
        p.written = 0;
        if (ms == 0)
            break;
        ss_stream_payload_clear(&p);
        if (PyErr_CheckSignals() < 0) {
            PyBuffer_Release(&b);
            return NULL;
        }
    }
    if (rc < 0) {
        /* The stream alive (a timeout): the caller's rest was never taken, and
         * belongs in the payload's unsent part; a dead stream's payload
         * already holds it. */
        bool alive = rc == -ETIMEDOUT || rc == -ENOBUFS || rc == -ENOMEM;
        raise_failure(rc, &p, alive ? data : NULL, alive ? left : 0);
        ss_stream_payload_clear(&p);
        PyBuffer_Release(&b);
        return NULL;
    }
    Py_ssize_t len = b.len;
    PyBuffer_Release(&b);
    return PyLong_FromSsize_t(len);
}

static PyObject *Stream_flush(Stream *self, PyObject *args)
{
    PyObject *timeout = Py_None;
    if (!PyArg_ParseTuple(args, "|O:flush", &timeout))
        return NULL;
    ss_stream *s = get(self);
    int64_t deadline;
    if (!s || deadline_of(timeout, &deadline) < 0)
        return NULL;
    ss_stream_payload p = {0};
    int rc = -ETIMEDOUT;
    for (;;) {
        int ms = slice(deadline);
        Py_BEGIN_ALLOW_THREADS rc = ss_stream_flush(s, ms, &p);
        Py_END_ALLOW_THREADS if (rc != -ETIMEDOUT || ms == 0) break;
        ss_stream_payload_clear(&p);
        if (PyErr_CheckSignals() < 0)
            return NULL;
    }
    if (rc < 0) {
        raise_failure(rc, &p, NULL, 0);
        ss_stream_payload_clear(&p);
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *Stream_shutdown_write(Stream *self, PyObject *args)
{
    PyObject *timeout = Py_None;
    if (!PyArg_ParseTuple(args, "|O:shutdown_write", &timeout))
        return NULL;
    ss_stream *s = get(self);
    int64_t deadline;
    if (!s || deadline_of(timeout, &deadline) < 0)
        return NULL;
    int ms = deadline < 0 ? -1 : (int)(deadline - now_ms());
    if (deadline >= 0 && ms < 0)
        ms = 0;
    ss_stream_payload p = {0};
    int rc;
    Py_BEGIN_ALLOW_THREADS rc = ss_stream_shutdown_write(s, ms, &p);
    Py_END_ALLOW_THREADS if (rc < 0)
    {
        raise_failure(rc, &p, NULL, 0);
        ss_stream_payload_clear(&p);
        return NULL;
    }
    Py_RETURN_NONE;
}

/* ---- State ------------------------------------------------------------ */

/* None while running (or unknown); else subprocess's returncode: the exit
 * code, or minus the signal that killed it. */
static PyObject *Stream_returncode(Stream *self, PyObject *unused)
{
    ss_stream *s = get(self);
    if (!s)
        return NULL;
    int status;
    int rc = ss_stream_exit_status(s, &status);
    if (rc < 0)
        Py_RETURN_NONE;
    if (WIFSIGNALED(status))
        return PyLong_FromLong(-WTERMSIG(status));
    return PyLong_FromLong(WEXITSTATUS(status));
}

static PyObject *Stream_close(Stream *self, PyObject *unused)
{
    if (self->s) {
        Py_BEGIN_ALLOW_THREADS ss_stream_close(self->s);
        Py_END_ALLOW_THREADS
    }
    Py_RETURN_NONE;
}

static PyObject *Stream_name(Stream *self, PyObject *unused)
{
    ss_stream *s = get(self);
    return s ? PyUnicode_FromString(ss_stream_name(s)) : NULL;
}

static void Stream_dealloc(Stream *self)
{
    if (self->s) {
        Py_BEGIN_ALLOW_THREADS ss_stream_free(self->s);
        Py_END_ALLOW_THREADS
    }
    ss__py_free((PyObject *)self);
}

static PyMethodDef Stream_methods[] = {
    {"open_uri", Stream_open_uri, METH_VARARGS | METH_CLASS,
     "open_uri(uri, timeout_ms, line_sep) -> Stream"},
    {"tcp", Stream_tcp, METH_VARARGS | METH_CLASS,
     "tcp(host, port, timeout_ms, line_sep) -> Stream"},
    {"serial", Stream_serial, METH_VARARGS | METH_CLASS,
     "serial(path, baud, data_bits, parity, stop_bits, rtscts, xonxoff, reopen_ms, line_sep)"},
    {"exec", Stream_exec, METH_VARARGS | METH_CLASS,
     "exec(argv: list of bytes, pty, echo, line_sep) -> Stream"},
    {"ssh", Stream_ssh, METH_VARARGS | METH_CLASS,
     "ssh(host, user, password, key, port, command, known_hosts, accept_new, pty, timeout_ms, "
     "line_sep)"},
    {"parse_ssh_uri", Stream_parse_ssh_uri, METH_VARARGS | METH_CLASS,
     "parse_ssh_uri(uri) -> (host, port, user, command)"},
    {"read", METH(Stream_read), METH_VARARGS, "read(count, timeout=None) -> bytes"},
    {"read_until", METH(Stream_read_until), METH_VARARGS,
     "read_until(target, timeout=None) -> bytes"},
    {"read_line", METH(Stream_read_line), METH_VARARGS, "read_line(timeout=None) -> bytes"},
    {"expect", METH(Stream_expect), METH_VARARGS,
     "expect(patterns, regex, timeout=None) -> (index, data, match_start)"},
    {"peek", METH(Stream_peek), METH_VARARGS, "peek(count) -> bytes"},
    {"ready", METH(Stream_ready), METH_NOARGS, "ready() -> int"},
    {"waiting", METH(Stream_waiting), METH_NOARGS, "waiting() -> int"},
    {"contains", METH(Stream_contains), METH_VARARGS, "contains(target) -> bool"},
    {"consume", METH(Stream_consume), METH_NOARGS, "consume() -> int"},
    {"take_stderr", METH(Stream_take_stderr), METH_NOARGS, "take_stderr() -> bytes"},
    {"write", METH(Stream_write), METH_VARARGS, "write(data, timeout=None) -> int"},
    {"flush", METH(Stream_flush), METH_VARARGS, "flush(timeout=None)"},
    {"shutdown_write", METH(Stream_shutdown_write), METH_VARARGS, "shutdown_write(timeout=None)"},
    {"returncode", METH(Stream_returncode), METH_NOARGS, "returncode() -> int or None"},
    {"close", METH(Stream_close), METH_NOARGS, "close()"},
    {"name", METH(Stream_name), METH_NOARGS, "name() -> str"},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot Stream_slots[] = {
    {Py_tp_dealloc, Stream_dealloc},
    {Py_tp_methods, Stream_methods},
    {Py_tp_doc, "The C core of syncstream.stream's streams: an ss_stream."},
    {0, NULL},
};

static PyType_Spec Stream_spec = {
    .name = "syncstream._core.Stream",
    .basicsize = sizeof(Stream),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = Stream_slots,
};

int ss__py_stream_add(PyObject *module)
{
    if (ss__py_add_type(module, &Stream_spec, NULL) < 0)
        return -1;
    failure_type = PyErr_NewException("syncstream._core.StreamFailure", PyExc_Exception, NULL);
    if (!failure_type)
        return -1;
    if (PyModule_AddObjectRef(module, "StreamFailure", failure_type) < 0)
        return -1;
    if (PyModule_AddIntConstant(module, "E_EOF", SS_EEOF) < 0 ||
        PyModule_AddIntConstant(module, "E_CLOSED", SS_ECLOSED) < 0 ||
        PyModule_AddIntConstant(module, "E_CONNLOST", SS_ECONNLOST) < 0)
        return -1;
    return 0;
}
