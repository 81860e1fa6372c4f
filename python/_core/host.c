/*
 * _core.HostServer, _core.HostMirror, _core.HostReader: the C halves of
 * syncstream.host's serve(), LineHostMirror and LineHostReader, on
 * ss_host_server, ss_host_mirror and ss_host_reader (hostclient.h).
 *
 * Every call that may wait (the network, a full queue, a thread's join)
 * releases the GIL. A mirror and a reader are used by one thread at a time in
 * the library; each object has a lock, taken without the GIL, so that Python
 * threads may share one. Waits the caller asked for (flush, follow) run in
 * slices of SLICE_MS with a signal check between, so that Ctrl-C ends them
 * within about that long.
 */
#include "core.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include <syncstream/common.h>
#include <syncstream/host.h>
#include <syncstream/hostclient.h>
#include <syncstream/linebuf.h>

#include "hostclient/mirror_int.h"

#define SLICE_MS 50
/* A write is handed to the mirror in pieces this large, each once the queue
 * has room for all of it, so that no piece blocks (see mirror_write). */
#define WRITE_CHUNK (64 * 1024)

/* ConnectionError(message) for what sync-stream raises it for: a server's
 * 4xx / 5xx answer or one outside the protocol; else the usual mapping. */
static PyObject *host_error(int rc, const char *what, const char *message)
{
    if (rc == SS_EREJECTED || rc == SS_ESERVER || rc == -EPROTO) {
        PyErr_Format(PyExc_ConnectionError, "syncstream: %s: %s", what,
                     message && *message ? message : ss_strerror(rc));
        return NULL;
    }
    /* An HTTP error status: ConnectionError, as sync-stream raises for any
     * status >= 400, keeping the errno (ENOENT for a 404...). */
    if (rc == -ENOENT || rc == -EACCES || rc == -EMSGSIZE) {
        PyObject *exc = PyObject_CallFunction(
            PyExc_ConnectionError, "(iN)", -rc,
            PyUnicode_FromFormat("syncstream: %s: %s", what,
                                 message && *message ? message : ss_strerror(rc)));
        if (exc) {
            PyErr_SetObject(PyExc_ConnectionError, exc);
            Py_DECREF(exc);
        }
        return NULL;
    }
    if (rc == SS_ESTOPPED) {
        PyErr_SetString(PyExc_StopIteration,
                        "syncstream: The mirror worker is terminated by users.");
        return NULL;
    }
    return ss__py_error(rc, what);
}

/* The lock of an object, taken with the GIL released. */
static void take(PyThread_type_lock lock)
{
    if (!PyThread_acquire_lock(lock, NOWAIT_LOCK)) {
        Py_BEGIN_ALLOW_THREADS PyThread_acquire_lock(lock, WAIT_LOCK);
        Py_END_ALLOW_THREADS
    }
}

/* ---- HostServer ---- */

typedef struct {
    PyObject_HEAD ss_host_server *srv;
    pid_t pid;
} HostServer;

static ss_host_server *get_srv(HostServer *self)
{
    if (!self->srv)
        PyErr_SetString(PyExc_OSError, "syncstream: the server is stopped");
    return self->srv;
}

static int HostServer_init(HostServer *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"listen", "route", "maxlen", "token", NULL};
    const char *listen, *route, *token = NULL;
    Py_ssize_t maxlen;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "ssn|z:HostServer", kwlist, &listen, &route,
                                     &maxlen, &token))
        return -1;
    if (self->srv) {
        PyErr_SetString(PyExc_TypeError, "syncstream: HostServer.__init__() called twice");
        return -1;
    }
    if (maxlen < 1) {
        PyErr_SetString(PyExc_ValueError, "syncstream: serve(): maxlen must be positive");
        return -1;
    }
    ss_host_server_opts opts = {
        .listen = listen,
        .route = route,
        .maxlen = (size_t)maxlen,
        .token = token,
    };
    ss_host_server *srv = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS rc = ss_host_server_new(&srv, &opts);
    Py_END_ALLOW_THREADS if (rc < 0) return ss__py_error_int(rc, "serve()");
    self->srv = srv;
    self->pid = getpid();
    return 0;
}

static void server_free(HostServer *self)
{
    ss_host_server *srv = self->srv;
    self->srv = NULL;
    /* A fork child has none of the server's threads to join: leave it. */
    if (srv && self->pid == getpid()) {
        Py_BEGIN_ALLOW_THREADS ss_host_server_free(srv);
        Py_END_ALLOW_THREADS
    }
}

static void HostServer_dealloc(HostServer *self)
{
    server_free(self);
    ss__py_free((PyObject *)self);
}

static PyObject *HostServer_close(HostServer *self, PyObject *unused)
{
    server_free(self);
    Py_RETURN_NONE;
}

static PyObject *HostServer_get_port(HostServer *self, void *unused)
{
    ss_host_server *srv = get_srv(self);
    return srv ? PyLong_FromLong(ss_host_server_port(srv)) : NULL;
}

static PyObject *HostServer_get_closed(HostServer *self, void *unused)
{
    return PyBool_FromLong(self->srv == NULL);
}

static PyObject *HostServer_set_stop(HostServer *self, PyObject *arg)
{
    ss_host_server *srv = get_srv(self);
    int stop = PyObject_IsTrue(arg);
    if (!srv || stop < 0)
        return NULL;
    int rc = ss_host_server_set_stop(srv, stop);
    if (rc < 0)
        return ss__py_error(rc, "serve()");
    Py_RETURN_NONE;
}

static PyObject *HostServer_read(HostServer *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"size", NULL};
    PyObject *size_obj = NULL;
    size_t size;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:read", kwlist, &size_obj))
        return NULL;
    ss_host_server *srv = get_srv(self);
    if (!srv || ss__py_size(size_obj, &size) < 0)
        return NULL;
    if (size == 0)
        return PyTuple_New(0);
    ss_records set = SS_RECORDS_INIT;
    int rc;
    Py_BEGIN_ALLOW_THREADS rc = ss_host_server_read(srv, size, &set);
    Py_END_ALLOW_THREADS if (rc < 0) return ss__py_error(rc, "serve()");
    PyObject *items = ss__py_items(&set, NULL);
    ss_records_clear(&set);
    return items;
}

static PyMethodDef HostServer_methods[] = {
    {"close", METH(HostServer_close), METH_NOARGS,
     "close() -> None\n--\n\nStop serving: connections close, threads are joined. Idempotent."},
    {"set_stop", METH(HostServer_set_stop), METH_O,
     "set_stop(stop: bool) -> None\n--\n\nSet or withdraw the stop request mirrors see."},
    {"read", METH(HostServer_read), METH_VARARGS | METH_KEYWORDS,
     "read(size: int | None = None) -> tuple[str | GroupedMessage, ...]\n--\n\n"
     "The newest size items of the server's buffer, oldest first."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef HostServer_getset[] = {
    {"port", GETTER(HostServer_get_port), NULL, "The TCP port the server listens on.", NULL},
    {"closed", GETTER(HostServer_get_closed), NULL, "Whether close() was called.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot HostServer_slots[] = {
    {Py_tp_doc,
     (void *)"HostServer(listen: str, route: str, maxlen: int, token: str | None = None)\n"
             "--\n\nThe C host server (ss_host_server); use syncstream.host.serve()."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_init, HostServer_init},
    {Py_tp_dealloc, HostServer_dealloc},
    {Py_tp_methods, HostServer_methods},
    {Py_tp_getset, HostServer_getset},
    {0, NULL},
};

static PyType_Spec HostServer_spec = {
    .name = "syncstream._core.HostServer",
    .basicsize = sizeof(HostServer),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = HostServer_slots,
};

/* ---- HostMirror ---- */

typedef struct {
    PyObject_HEAD ss_host_mirror *m;
    PyThread_type_lock lock;
    bool closed;
    pid_t pid;
} HostMirror;

static ss_host_mirror *get_mirror(HostMirror *self)
{
    if (!self->m)
        ss__py_not_initialized("HostMirror");
    return self->m;
}

static PyObject *mirror_error(HostMirror *self, int rc)
{
    ss_host_mirror_stats st;
    ss_host_mirror_get_stats(self->m, &st);
    return host_error(rc, "LineHostMirror", st.message);
}

static int HostMirror_init(HostMirror *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"url", "source", "timeout_ms", "base", "token", NULL};
    const char *url, *source = NULL, *token = NULL;
    int timeout_ms = 0, base = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "s|zipz:HostMirror", kwlist, &url, &source,
                                     &timeout_ms, &base, &token))
        return -1;
    if (self->m) {
        PyErr_SetString(PyExc_TypeError, "syncstream: HostMirror.__init__() called twice");
        return -1;
    }
    if (timeout_ms < 0) {
        PyErr_SetString(PyExc_ValueError, "syncstream: LineHostMirror: timeout must be positive");
        return -1;
    }
    self->lock = PyThread_allocate_lock();
    if (!self->lock) {
        PyErr_NoMemory();
        return -1;
    }
    ss_host_mirror_opts opts = {
        .source = source,
        .token = token,
        .request_timeout_ms = timeout_ms,
        /* close() is called after a flush the caller can interrupt. */
        .close_timeout_ms = timeout_ms ? timeout_ms : 1000,
        .flags = (base ? SS_HOST_FORCE_BASE : 0) | SS_HOST_CR_IS_BREAK,
    };
    ss_host_mirror *m = NULL;
    int rc = ss_host_mirror_new(&m, url, &opts);
    if (rc < 0)
        return ss__py_error_int(rc, "LineHostMirror");
    self->m = m;
    self->pid = getpid();
    return 0;
}

static void HostMirror_dealloc(HostMirror *self)
{
    /* A fork child has no copy of the sending thread to join: the inherited
     * mirror is left alone there (LineHostMirror makes a new one). */
    if (self->m && self->pid == getpid()) {
        ss_host_mirror *m = self->m;
        Py_BEGIN_ALLOW_THREADS ss_host_mirror_free(m);
        Py_END_ALLOW_THREADS
    }
    if (self->lock)
        PyThread_free_lock(self->lock);
    ss__py_free((PyObject *)self);
}

/*
 * ss_host_mirror_write() blocks while the queue is full (a server down for
 * long): wait for room first, in slices with a signal check between, then
 * write what fits. Ctrl-C during a wait raises KeyboardInterrupt; the pieces
 * written before stay queued. Returns 0, a library error, or -1 with an
 * exception.
 */
static int mirror_write(ss_host_mirror *m, const char *data, size_t len)
{
    int rc = 0;
    do {
        size_t n = len < WRITE_CHUNK ? len : WRITE_CHUNK;
        /* Room is the common case: asked without releasing the GIL (the
         * mirror's lock is never held by a thread waiting for the GIL). */
        rc = ss__host_mirror_wait_room(m, n, 0);
        while (rc == -ETIMEDOUT) {
            if (PyErr_CheckSignals() < 0)
                return -1;
            Py_BEGIN_ALLOW_THREADS rc = ss__host_mirror_wait_room(m, n, SLICE_MS);
            Py_END_ALLOW_THREADS
        }
        if (rc == 0) {
            Py_BEGIN_ALLOW_THREADS rc = ss_host_mirror_write(m, data, n);
            Py_END_ALLOW_THREADS
        }
        data += n;
        len -= n;
    } while (rc == 0 && len > 0);
    return rc;
}

static PyObject *HostMirror_write(HostMirror *self, PyObject *arg)
{
    ss_host_mirror *m = get_mirror(self);
    if (!m)
        return NULL;
    const char *data;
    Py_ssize_t len;
    PyObject *keep;
    if (ss__py_utf8(arg, "write() argument", &data, &len, &keep) < 0)
        return NULL;
    take(self->lock);
    int rc = mirror_write(m, data, (size_t)len);
    PyThread_release_lock(self->lock);
    Py_XDECREF(keep);
    if (rc == -1 && PyErr_Occurred())
        return NULL;
    if (rc < 0)
        return mirror_error(self, rc);
    return PyLong_FromSsize_t(PyUnicode_GetLength(arg));
}

static PyObject *HostMirror_new_line(HostMirror *self, PyObject *unused)
{
    ss_host_mirror *m = get_mirror(self);
    if (!m)
        return NULL;
    int rc;
    take(self->lock);
    Py_BEGIN_ALLOW_THREADS rc = ss_host_mirror_new_line(m);
    Py_END_ALLOW_THREADS PyThread_release_lock(self->lock);
    if (rc < 0)
        return mirror_error(self, rc);
    Py_RETURN_NONE;
}

static PyObject *HostMirror_append(HostMirror *self, PyObject *args)
{
    const char *kind_name;
    PyObject *text;
    ss_kind kind;
    if (!PyArg_ParseTuple(args, "sO:_append", &kind_name, &text) ||
        ss__py_kind(kind_name, &kind) < 0)
        return NULL;
    ss_host_mirror *m = get_mirror(self);
    if (!m)
        return NULL;
    const char *data;
    Py_ssize_t len;
    PyObject *keep;
    if (ss__py_utf8(text, "_append() text", &data, &len, &keep) < 0)
        return NULL;
    int rc;
    take(self->lock);
    Py_BEGIN_ALLOW_THREADS rc = ss_host_mirror_append(m, kind, data, (size_t)len);
    Py_END_ALLOW_THREADS PyThread_release_lock(self->lock);
    Py_XDECREF(keep);
    if (rc < 0)
        return mirror_error(self, rc);
    Py_RETURN_NONE;
}

/* Wait for delivery, at most timeout seconds, in slices. Negative, NaN or
 * beyond 1e9 s (~31 years) means no limit: converting a larger double to
 * long is undefined. */
static int mirror_flush(HostMirror *self, ss_host_mirror *m, double timeout)
{
    long timeout_ms = timeout >= 0 && timeout <= 1e9 ? (long)(timeout * 1000) : -1;
    int rc = -ETIMEDOUT;
    for (long waited = 0; timeout_ms < 0 || waited < timeout_ms; waited += SLICE_MS) {
        int slice = timeout_ms < 0 || timeout_ms - waited > SLICE_MS ? SLICE_MS
                                                                     : (int)(timeout_ms - waited);
        Py_BEGIN_ALLOW_THREADS rc = ss_host_mirror_flush(m, slice);
        Py_END_ALLOW_THREADS if (rc != -ETIMEDOUT || PyErr_CheckSignals() < 0) break;
    }
    return rc;
}

static PyObject *HostMirror_flush(HostMirror *self, PyObject *args)
{
    double timeout = -1;
    if (!PyArg_ParseTuple(args, "|d:flush", &timeout))
        return NULL;
    ss_host_mirror *m = get_mirror(self);
    if (!m)
        return NULL;
    take(self->lock);
    int rc = mirror_flush(self, m, timeout);
    PyThread_release_lock(self->lock);
    if (PyErr_Occurred())
        return NULL;
    if (rc < 0 && rc != SS_ECLOSED)
        return mirror_error(self, rc);
    Py_RETURN_NONE;
}

static PyObject *HostMirror_close(HostMirror *self, PyObject *args)
{
    PyObject *text = NULL;
    double timeout = -1;
    if (!PyArg_ParseTuple(args, "|Od:_close", &text, &timeout))
        return NULL;
    ss_host_mirror *m = get_mirror(self);
    if (!m)
        return NULL;
    if (text == Py_None)
        text = NULL;
    const char *data = NULL;
    Py_ssize_t len = 0;
    PyObject *keep = NULL;
    if (text && ss__py_utf8(text, "_close() text", &data, &len, &keep) < 0)
        return NULL;
    take(self->lock);
    if (self->closed) {
        PyThread_release_lock(self->lock);
        Py_XDECREF(keep);
        Py_RETURN_NONE;
    }
    /* Deliver what is queued first, interruptibly; the close then only sends
     * the close record. */
    int rc = mirror_flush(self, m, timeout);
    if (!PyErr_Occurred()) {
        self->closed = true;
        Py_BEGIN_ALLOW_THREADS rc =
            text ? ss_host_mirror_close_error(m, data, (size_t)len) : ss_host_mirror_close(m);
        Py_END_ALLOW_THREADS
    }
    PyThread_release_lock(self->lock);
    Py_XDECREF(keep);
    if (PyErr_Occurred())
        return NULL;
    if (rc < 0)
        return mirror_error(self, rc);
    Py_RETURN_NONE;
}

static PyObject *HostMirror_stats(HostMirror *self, PyObject *unused)
{
    ss_host_mirror *m = get_mirror(self);
    if (!m)
        return NULL;
    ss_host_mirror_stats st;
    ss_host_mirror_get_stats(m, &st);
    static const char *protos[] = {"unknown", "ext", "base"};
    return Py_BuildValue(
        "{sKsKsKsKsKsnsssOsisiss}", "records_queued", (unsigned long long)st.records_queued,
        "records_sent", (unsigned long long)st.records_sent, "batches_sent",
        (unsigned long long)st.batches_sent, "duplicates", (unsigned long long)st.duplicates,
        "retries", (unsigned long long)st.retries, "pending", (Py_ssize_t)st.pending, "protocol",
        protos[st.protocol <= 2 ? st.protocol : 0], "stopped", st.stopped ? Py_True : Py_False,
        "error", st.error, "last_status", st.last_status, "message", st.message);
}

static PyObject *HostMirror_unsent(HostMirror *self, PyObject *unused)
{
    ss_host_mirror *m = get_mirror(self);
    if (!m)
        return NULL;
    ss_records set = SS_RECORDS_INIT;
    take(self->lock);
    int rc = ss_host_mirror_unsent(m, &set);
    PyThread_release_lock(self->lock);
    if (rc < 0)
        return ss__py_error(rc, "LineHostMirror");
    PyObject *items = ss__py_items(&set, NULL);
    ss_records_clear(&set);
    return items;
}

static PyObject *HostMirror_get_closed(HostMirror *self, void *unused)
{
    return PyBool_FromLong(self->closed || !self->m);
}

static PyMethodDef HostMirror_methods[] = {
    {"write", METH(HostMirror_write), METH_O,
     "write(data: str) -> int\n--\n\nQueue the completed lines of data for sending."},
    {"new_line", METH(HostMirror_new_line), METH_NOARGS,
     "new_line() -> None\n--\n\nEnd the partial line if it is not empty."},
    {"_append", METH(HostMirror_append), METH_VARARGS,
     "_append(kind: str, text: str) -> None\n--\n\nQueue text as one warning or error record."},
    {"flush", METH(HostMirror_flush), METH_VARARGS,
     "flush(timeout: float = -1) -> None\n--\n\n"
     "Wait until every record queued so far is delivered (timeout in seconds,\n"
     "negative: no limit); TimeoutError when it passes."},
    {"_close", METH(HostMirror_close), METH_VARARGS,
     "_close(error_text: str | None = None, timeout: float = -1) -> None\n--\n\n"
     "Deliver the queue, send the partial line, the error record (if any) and the\n"
     "close record, then stop the mirror's thread. Idempotent."},
    {"stats", METH(HostMirror_stats), METH_NOARGS,
     "stats() -> dict\n--\n\nThe mirror's counters and its last error."},
    {"unsent", METH(HostMirror_unsent), METH_NOARGS,
     "unsent() -> tuple\n--\n\nAfter close: the records that were not delivered."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef HostMirror_getset[] = {
    {"closed", GETTER(HostMirror_get_closed), NULL, "Whether the mirror was closed.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot HostMirror_slots[] = {
    {Py_tp_doc, (void *)"HostMirror(url: str, source: str | None = None, timeout_ms: int = 0, "
                        "base: bool = False, token: str | None = None)\n--\n\n"
                        "An ss_host_mirror; use syncstream.LineHostMirror."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_init, HostMirror_init},
    {Py_tp_dealloc, HostMirror_dealloc},
    {Py_tp_methods, HostMirror_methods},
    {Py_tp_getset, HostMirror_getset},
    {0, NULL},
};

static PyType_Spec HostMirror_spec = {
    .name = "syncstream._core.HostMirror",
    .basicsize = sizeof(HostMirror),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = HostMirror_slots,
};

/* ---- HostReader ---- */

typedef struct {
    PyObject_HEAD ss_host_reader *r;
    PyThread_type_lock lock;
} HostReader;

static ss_host_reader *get_reader(HostReader *self)
{
    if (!self->r)
        ss__py_not_initialized("HostReader");
    return self->r;
}

static int HostReader_init(HostReader *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"url", "timeout_ms", "token", NULL};
    const char *url, *token = NULL;
    int timeout_ms = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "s|iz:HostReader", kwlist, &url, &timeout_ms,
                                     &token))
        return -1;
    if (self->r) {
        PyErr_SetString(PyExc_TypeError, "syncstream: HostReader.__init__() called twice");
        return -1;
    }
    if (timeout_ms < 0) {
        PyErr_SetString(PyExc_ValueError, "syncstream: LineHostReader: timeout must be positive");
        return -1;
    }
    self->lock = PyThread_allocate_lock();
    if (!self->lock) {
        PyErr_NoMemory();
        return -1;
    }
    ss_host_reader_opts opts = {.token = token, .request_timeout_ms = timeout_ms};
    ss_host_reader *r = NULL;
    int rc = ss_host_reader_new(&r, url, &opts);
    if (rc < 0)
        return ss__py_error_int(rc, "LineHostReader");
    self->r = r;
    return 0;
}

static void HostReader_dealloc(HostReader *self)
{
    ss_host_reader_free(self->r);
    if (self->lock)
        PyThread_free_lock(self->lock);
    ss__py_free((PyObject *)self);
}

static PyObject *reader_error(HostReader *self, int rc)
{
    return host_error(rc, "LineHostReader", ss_host_reader_message(self->r));
}

/* One request with no argument but the reader: clear, stop, reset. */
static PyObject *reader_call(HostReader *self, int (*fn)(ss_host_reader *))
{
    ss_host_reader *r = get_reader(self);
    if (!r)
        return NULL;
    int rc;
    take(self->lock);
    Py_BEGIN_ALLOW_THREADS rc = fn(r);
    Py_END_ALLOW_THREADS PyObject *res = rc < 0 ? reader_error(self, rc) : Py_NewRef(Py_True);
    PyThread_release_lock(self->lock);
    return res;
}

static PyObject *HostReader_clear(HostReader *self, PyObject *unused)
{
    return reader_call(self, ss_host_reader_clear);
}

static PyObject *HostReader_stop(HostReader *self, PyObject *unused)
{
    return reader_call(self, ss_host_reader_stop);
}

static PyObject *HostReader_reset(HostReader *self, PyObject *unused)
{
    return reader_call(self, ss_host_reader_reset);
}

static PyObject *HostReader_state(HostReader *self, PyObject *arg)
{
    const char *name = PyUnicode_Check(arg) ? PyUnicode_AsUTF8AndSize(arg, NULL) : NULL;
    ss_host_reader *r = get_reader(self);
    if (!name || !r) {
        if (!PyErr_Occurred())
            ss__py_type_error("_state() name", "str", arg);
        return NULL;
    }
    size_t n = 0;
    bool closed = false;
    int rc;
    bool is_closed = strcmp(name, "closed") == 0, is_max = strcmp(name, "maxlen") == 0;
    if (!is_closed && !is_max && strcmp(name, "curlen") != 0) {
        PyErr_Format(PyExc_ValueError, "syncstream: unknown state \"%s\"", name);
        return NULL;
    }
    take(self->lock);
    Py_BEGIN_ALLOW_THREADS rc = is_closed ? ss_host_reader_closed(r, &closed)
                                : is_max  ? ss_host_reader_maxlen(r, &n)
                                          : ss_host_reader_len(r, &n);
    Py_END_ALLOW_THREADS PyObject *res = rc < 0      ? reader_error(self, rc)
                                         : is_closed ? PyBool_FromLong(closed)
                                                     : PyLong_FromSize_t(n);
    PyThread_release_lock(self->lock);
    return res;
}

static PyObject *HostReader_read(HostReader *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"size", NULL};
    PyObject *size_obj = NULL;
    size_t size;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:read", kwlist, &size_obj))
        return NULL;
    ss_host_reader *r = get_reader(self);
    if (!r || ss__py_size(size_obj, &size) < 0)
        return NULL;
    ss_records set = SS_RECORDS_INIT;
    int rc;
    take(self->lock);
    Py_BEGIN_ALLOW_THREADS rc = ss_host_reader_read(r, size, &set);
    Py_END_ALLOW_THREADS PyObject *res = rc < 0 ? reader_error(self, rc) : ss__py_items(&set, NULL);
    PyThread_release_lock(self->lock);
    ss_records_clear(&set);
    return res;
}

/*
 * _follow(cursor, limit, wait) -> (items, next_cursor, missed): the records
 * after cursor, waiting up to wait seconds (negative: no limit) for one, in
 * long-polls of SLICE_MS so that a signal is seen between them.
 */
static PyObject *HostReader_follow(HostReader *self, PyObject *args)
{
    unsigned long long cursor;
    Py_ssize_t limit;
    double wait;
    if (!PyArg_ParseTuple(args, "Knd:_follow", &cursor, &limit, &wait))
        return NULL;
    ss_host_reader *r = get_reader(self);
    if (!r)
        return NULL;
    if (limit < 0)
        limit = 0;
    long wait_ms = wait < 0 ? -1 : (long)(wait * 1000);
    ss_records set = SS_RECORDS_INIT;
    int rc = 0;
    take(self->lock);
    for (long waited = 0;; waited += SLICE_MS) {
        int slice = wait_ms < 0 || wait_ms - waited > SLICE_MS ? SLICE_MS : (int)(wait_ms - waited);
        if (slice < 0)
            slice = 0;
        Py_BEGIN_ALLOW_THREADS rc = ss_host_reader_follow(r, cursor, (size_t)limit, slice, &set);
        Py_END_ALLOW_THREADS if (rc != 0 || set.missed ||
                                 (wait_ms >= 0 && waited + slice >= wait_ms) ||
                                 PyErr_CheckSignals() < 0) break;
        cursor = set.cursor;
    }
    PyObject *res = NULL;
    if (!PyErr_Occurred()) {
        if (rc < 0) {
            res = reader_error(self, rc);
        } else {
            PyObject *items = ss__py_items(&set, NULL);
            res = items ? Py_BuildValue("NKK", items, (unsigned long long)set.cursor,
                                        (unsigned long long)set.missed)
                        : NULL;
        }
    }
    PyThread_release_lock(self->lock);
    ss_records_clear(&set);
    return res;
}

static PyObject *HostReader_cancel(HostReader *self, PyObject *unused)
{
    if (self->r)
        ss_host_reader_cancel(self->r);
    Py_RETURN_NONE;
}

static PyMethodDef HostReader_methods[] = {
    {"read", METH(HostReader_read), METH_VARARGS | METH_KEYWORDS,
     "read(size: int | None = None) -> tuple\n--\n\nGET ROUTE[?n=size]."},
    {"_state", METH(HostReader_state), METH_O,
     "_state(name: str) -> int | bool\n--\n\nGET ROUTE-state?state=name (closed, maxlen, curlen)."},
    {"clear", METH(HostReader_clear), METH_NOARGS, "clear() -> bool\n--\n\nDELETE ROUTE."},
    {"stop_all_mirrors", METH(HostReader_stop), METH_NOARGS,
     "stop_all_mirrors() -> bool\n--\n\nRequest a stop of every mirror."},
    {"reset_states", METH(HostReader_reset), METH_NOARGS,
     "reset_states() -> bool\n--\n\nWithdraw the stop request."},
    {"_follow", METH(HostReader_follow), METH_VARARGS,
     "_follow(cursor: int, limit: int, wait: float) -> tuple[tuple, int, int]\n--\n\n"
     "The records after cursor (waiting up to wait seconds for one), the next\n"
     "cursor and the count of records missed."},
    {"cancel", METH(HostReader_cancel), METH_NOARGS,
     "cancel() -> None\n--\n\nEnd the current and the next request (any thread)."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot HostReader_slots[] = {
    {Py_tp_doc, (void *)"HostReader(url: str, timeout_ms: int = 0, token: str | None = None)\n"
                        "--\n\nAn ss_host_reader; use syncstream.LineHostReader."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_init, HostReader_init},
    {Py_tp_dealloc, HostReader_dealloc},
    {Py_tp_methods, HostReader_methods},
    {0, NULL},
};

static PyType_Spec HostReader_spec = {
    .name = "syncstream._core.HostReader",
    .basicsize = sizeof(HostReader),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = HostReader_slots,
};

int ss__py_host_add(PyObject *module)
{
    static PyType_Spec *const specs[] = {&HostServer_spec, &HostMirror_spec, &HostReader_spec};
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        if (ss__py_add_type(module, specs[i], NULL) < 0)
            return -1;
    }
    return 0;
}
